"""Any change to songs, their tags or labels makes every process rebuild its library index; a
stored playlist, and the playlist a person corrects, are kept as rows the review queue counts."""

from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from .library_version import bump_library_version
from .models import EmotionLabel, Recognition, RecognitionCorrection, Song, Tag


@receiver(post_save, sender=Song)
@receiver(post_delete, sender=Song)
@receiver(post_save, sender=EmotionLabel)
@receiver(post_delete, sender=EmotionLabel)
@receiver(post_save, sender=Tag)
@receiver(m2m_changed, sender=Song.tags.through)
def library_changed(**_kwargs):
    transaction.on_commit(bump_library_version)


def pick_ids(picks) -> set[int]:
    """The song ids a stored playlist ([{id, score, why}]) names, whatever else it holds."""
    return {pick.get("id") for pick in picks or () if isinstance(pick, dict) and isinstance(pick.get("id"), int)}


def playlist_song_ids(picks) -> set[int]:
    """The ids of the songs in a stored playlist that are still in the library."""
    ids = pick_ids(picks)
    return set(Song.objects.filter(id__in=ids).values_list("id", flat=True)) if ids else set()


def add_playlist_songs(recognition_id, picks) -> None:
    """The rows of a playlist stored with a queryset update (the worker's conditional write, which
    sends no post_save), in one query: only songs still in the library, as ``playlist_song_ids``.
    For a recognition that has none yet."""
    ids = sorted(pick_ids(picks))
    if not ids:
        return
    through = Recognition.playlist_songs.through._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(through.get_field(name).column) for name in ("recognition", "song"))
    sql = (f"INSERT INTO {quote(through.db_table)} ({columns}) SELECT %s, {quote('id')} "
           f"FROM {quote(Song._meta.db_table)} WHERE {quote('id')} IN ({', '.join(['%s'] * len(ids))})")
    with connection.cursor() as cursor:
        cursor.execute(sql, [Recognition._meta.pk.get_db_prep_value(recognition_id, connection), *ids])


@receiver(post_save, sender=Recognition)
def playlist_stored(instance, created, update_fields=None, **_kwargs):
    if update_fields is not None and "songs" not in update_fields:
        return
    if created and not instance.songs:
        return
    instance.playlist_songs.set(playlist_song_ids(instance.songs))


@receiver(post_save, sender=RecognitionCorrection)
def playlist_corrected(instance, **_kwargs):
    # Read from the database: the playlist the person saw, before it is re-ranked for the correction.
    shown = Recognition.objects.filter(pk=instance.recognition_id).values_list("songs", flat=True).first()
    ids = playlist_song_ids(shown)
    if ids:
        instance.playlist_songs.add(*ids)
