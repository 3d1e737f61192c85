from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("recommender", "0007_web_urls_and_tag_slugs"),
    ]

    operations = [
        migrations.AddField(
            model_name="song",
            name="playlists",
            field=models.JSONField(blank=True, default=list, verbose_name="playlists holding it"),
        ),
    ]
