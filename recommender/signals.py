"""Any change to songs, their tags or labels makes every process rebuild its library index."""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from .library import bump_library_version
from .models import EmotionLabel, Song, Tag


@receiver(post_save, sender=Song)
@receiver(post_delete, sender=Song)
@receiver(post_save, sender=EmotionLabel)
@receiver(post_delete, sender=EmotionLabel)
@receiver(post_save, sender=Tag)
@receiver(m2m_changed, sender=Song.tags.through)
def library_changed(**_kwargs):
    transaction.on_commit(bump_library_version)
