"""Snapshots a person asked to keep: stored re-encoded, without any of the upload's metadata."""

import io
import logging

from django.conf import settings
from PIL import Image

from recommender.emotion import ImageDecodeError, decode_image
from recommender.models import Recognition
from webapp.models import KeptSnapshot, PrivacySetting

log = logging.getLogger(__name__)


def clean_jpeg(data: bytes, max_side: int) -> tuple[bytes, int, int]:
    """The photo as the person saw it (EXIF orientation applied), at most max_side pixels a side,
    as a fresh JPEG: no EXIF, no GPS position, no comments, no colour-profile payloads."""
    image = Image.fromarray(decode_image(data))
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85, optimize=True)
    return buffer.getvalue(), image.width, image.height


def keep_if_wanted(request, recognition: Recognition, data: bytes) -> KeptSnapshot | None:
    """Store the snapshot only when this signed-in person turned on "Keep my snapshots"."""
    if not PrivacySetting.keeps_snapshots(request.user):
        return None
    try:
        image, width, height = clean_jpeg(data, settings.MIEN_KEPT_SNAPSHOT_SIDE)
    except ImageDecodeError:  # the recognition itself reports the damage
        log.info("snapshot of recognition %s not kept: unreadable", recognition.id)
        return None
    return KeptSnapshot.objects.create(user=request.user, recognition=recognition, image=image,
                                       width=width, height=height)
