from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("recommender", "0006_song_lyrics_features"),
    ]

    operations = [
        migrations.AddField(
            model_name="song",
            name="playlists",
            field=models.JSONField(blank=True, default=list, verbose_name="playlists holding it"),
        ),
    ]
