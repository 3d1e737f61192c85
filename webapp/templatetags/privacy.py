"""My music's privacy section: the "Keep my snapshots" setting and the snapshots kept."""

from django import template

from webapp.models import KeptSnapshot, PrivacySetting

register = template.Library()


@register.simple_tag
def kept_snapshots(user) -> dict:
    """{"keep": the person's setting, "items": their kept snapshots, newest first (no image bytes)}."""
    if user is None or not user.is_authenticated:
        return {"keep": False, "items": []}
    items = list(KeptSnapshot.objects.filter(user=user).defer("image").select_related("recognition"))
    return {"keep": PrivacySetting.keeps_snapshots(user), "items": items}
