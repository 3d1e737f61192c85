"""The admin index's "waiting for review" panel: how many songs the review queue holds, per emotion."""

from django import template
from django.urls import reverse

from recommender.models import EMOTION_CHOICES
from recommender.review import waiting_per_emotion

register = template.Library()


@register.simple_tag
def review_waiting(user) -> dict | None:
    """{total, url, rows: [(emotion label, count, url)]} for someone who may see the queue, else None."""
    if not user.has_perm("recommender.view_songreview"):
        return None
    total, per_emotion = waiting_per_emotion()
    url = reverse("admin:recommender_songreview_changelist")
    rows = [(label, per_emotion.get(emotion, 0), f"{url}?emotion={emotion}") for emotion, label in EMOTION_CHOICES]
    return {"total": total, "url": url, "rows": rows}
