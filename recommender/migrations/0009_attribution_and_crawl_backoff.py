from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("recommender", "0008_song_playlists"),
    ]

    operations = [
        migrations.AddField(
            model_name="song",
            name="album",
            field=models.CharField(blank=True, max_length=300, verbose_name="album"),
        ),
        migrations.AddField(
            model_name="song",
            name="license_url",
            field=models.URLField(blank=True, max_length=500, verbose_name="licence"),
        ),
        migrations.AddField(
            model_name="crawlrun",
            name="backoff_until",
            field=models.DateTimeField(blank=True, null=True, verbose_name="back off until"),
        ),
        migrations.AddField(
            model_name="crawlrun",
            name="progress",
            field=models.JSONField(blank=True, default=dict, verbose_name="resume point"),
        ),
    ]
