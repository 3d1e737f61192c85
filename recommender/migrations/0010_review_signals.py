# Rows for the songs of every stored playlist, and of every playlist a person corrected, so the review
# queue counts them in one query (recommender/review.py). Existing playlists are copied in; the
# playlist a person corrected before this migration was already replaced, so it cannot be.

from django.db import migrations, models


def copy_playlists(apps, schema_editor):
    Recognition = apps.get_model("recommender", "Recognition")
    Song = apps.get_model("recommender", "Song")
    Through = Recognition.playlist_songs.through
    known = set(Song.objects.values_list("id", flat=True))
    rows = []
    for recognition_id, songs in Recognition.objects.exclude(songs=[]).values_list("id", "songs").iterator():
        ids = {pick.get("id") for pick in songs or () if isinstance(pick, dict)} & known
        rows += [Through(recognition_id=recognition_id, song_id=song_id) for song_id in ids]
        if len(rows) >= 5000:
            Through.objects.bulk_create(rows, ignore_conflicts=True)
            rows = []
    Through.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ('recommender', "0009_attribution_and_crawl_backoff"),
    ]

    operations = [
        migrations.AddField(
            model_name='recognition',
            name='playlist_songs',
            field=models.ManyToManyField(blank=True, editable=False, related_name='+', to='recommender.song'),
        ),
        migrations.AddField(
            model_name='recognitioncorrection',
            name='playlist_songs',
            field=models.ManyToManyField(blank=True, editable=False, related_name='+', to='recommender.song'),
        ),
        migrations.RunPython(copy_playlists, migrations.RunPython.noop),
    ]
