"""The selfie -> playlist job."""

import base64
import logging

from celery import shared_task
from django.utils import timezone
from django.utils.translation import gettext as _

from recommender.models import Recognition

log = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recognise_and_recommend(recognition_id: str, image_b64: str) -> str:
    """Recognise the largest face's emotion and store a playlist; the image is never stored."""
    from recommender import emotion as emotion_core
    from recommender.playlists import playlist_for_recognition

    recognition = Recognition.objects.select_related("user").filter(pk=recognition_id).first()
    if recognition is None or recognition.status != Recognition.Status.PENDING:
        return "skipped"
    try:
        result = emotion_core.recognize(base64.b64decode(image_b64))
        if not result.faces:
            return finish(recognition, error=_("No face found in the photo. Face the camera in good light and try again."))
        face = result.faces[0]
        recognition.face_count = len(result.faces)
        recognition.face_box = list(face.box)
        recognition.probabilities = {k: round(float(v), 4) for k, v in face.probabilities.items()}
        recognition.emotion = result.emotion
        playlist_for_recognition(recognition)  # songs, and the strategy that produced them
    except emotion_core.ImageDecodeError as exc:
        return finish(recognition, error=str(exc))
    except Exception:
        # Never leave a recognition pending for good: the person gets an answer, we get the trace.
        log.exception("recognition %s failed", recognition_id)
        recognition.emotion, recognition.probabilities, recognition.songs = "", {}, []
        return finish(recognition, error=_("Something went wrong on our side. Please try again."))
    return finish(recognition)


def finish(recognition: Recognition, error: str = "") -> str:
    recognition.status = Recognition.Status.FAILED if error else Recognition.Status.DONE
    recognition.error = error
    recognition.finished_at = timezone.now()
    recognition.save()
    return recognition.status
