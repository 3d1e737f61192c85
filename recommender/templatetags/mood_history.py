"""Mood history for My music: a person's past snapshots as points of a small server-side SVG chart."""

from django import template
from django.urls import reverse

from recommender.models import EMOTION_CHOICES, EMOTION_LABELS, Recognition

register = template.Library()

HISTORY_LENGTH = 30  # the most recent snapshots shown
ROW_HEIGHT = 26
LEFT = 90  # room for the emotion names
TOP = 14
STEP = 22
RIGHT = 16


@register.simple_tag
def mood_history(user, limit: int = HISTORY_LENGTH) -> dict:
    """Chart geometry and rows for the person's last ``limit`` finished snapshots, oldest first.

    Each point is the emotion the playlist followed (the person's correction if they made one),
    linked to the page that reopens that playlist.
    """
    if user is None or not user.is_authenticated:
        return {"points": []}
    recent = list(Recognition.objects.filter(user=user, status=Recognition.Status.DONE)
                  .exclude(emotion="").select_related("correction").order_by("-created_at")[:limit])
    recent.reverse()
    rows = {key: i for i, (key, _label) in enumerate(EMOTION_CHOICES)}
    points = []
    for i, recognition in enumerate(recent):
        correction = getattr(recognition, "correction", None)
        emotion = correction.emotion if correction else recognition.emotion
        points.append({
            "x": LEFT + i * STEP + STEP // 2,
            "y": TOP + rows[emotion] * ROW_HEIGHT + ROW_HEIGHT // 2,
            "emotion": emotion,
            "label": EMOTION_LABELS[emotion],
            "detected_label": EMOTION_LABELS[recognition.emotion] if correction else None,
            "when": recognition.created_at,
            "strategy": recognition.strategy,
            "url": f"{reverse('home')}?recognition={recognition.id}",
            "id": str(recognition.id),
        })
    return {
        "points": points,
        "rows": [{"key": key, "label": label, "y": TOP + i * ROW_HEIGHT + ROW_HEIGHT // 2,
                  "line_y": TOP + i * ROW_HEIGHT} for i, (key, label) in enumerate(EMOTION_CHOICES)],
        "polyline": " ".join(f"{p['x']},{p['y']}" for p in points),
        "width": LEFT + max(len(points), 1) * STEP + RIGHT,
        "height": TOP * 2 + len(EMOTION_CHOICES) * ROW_HEIGHT,
        "label_x": LEFT - 8,
        "bottom": TOP + len(EMOTION_CHOICES) * ROW_HEIGHT,
    }
