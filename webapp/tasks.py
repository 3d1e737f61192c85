"""The selfie -> playlist job, and the sweeper that answers recognitions whose job was lost.

Delivery is at least once (``acks_late``; a worker that dies mid-task has its message retried or
requeued), so the job is idempotent: it works only on a pending recognition, and its outcome is
written with a conditional update, so a recognition that is already done or failed is never redone
or overwritten. The image travels base64 in the task message and is never stored: a message lost
with the broker cannot be re-run, and the sweeper tells the person to snap again.
"""

import base64
import logging
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import task_failure
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from recommender.models import Recognition
from recommender.signals import add_playlist_songs
from webapp.recognition_wait import announce_finished

log = logging.getLogger(__name__)

# Worth another try a little later: the database restarting, a dropped connection.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
# Stored untranslated (the worker has no request language) and shown in the reader's language.
LOST_REASON = gettext_noop("Your photo was lost on the way: please snap again.")
GAVE_UP_REASON = gettext_noop("Something went wrong on our side. Please try again.")
# The image decoder's reasons (recommender.emotion, which knows nothing of Django), for the catalogue.
DECODE_REASONS = (
    gettext_noop("The uploaded file is empty."),
    gettext_noop("The file is not an image we can read; please upload a JPEG, PNG or WebP photo."),
    gettext_noop("The image file is damaged or incomplete; please upload it again."),
    gettext_noop("The image uses a colour format we cannot read."),
)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True,
             # A worker lost mid-task (killed, out of memory) -> retried elsewhere, at most
             # max_retries times, so a photo that kills every worker cannot loop for ever.
             retry_on_worker_lost=True, default_retry_delay=1,
             autoretry_for=TRANSIENT_ERRORS, retry_backoff=2, retry_backoff_max=30, retry_jitter=True,
             max_retries=3)
def recognise_and_recommend(self, recognition_id: str, image_b64: str) -> str:
    """Recognise the largest face's emotion and store a playlist; the image is never stored."""
    from recommender import emotion as emotion_core
    from recommender.playlists import playlist_for_recognition

    recognition = Recognition.objects.select_related("user").filter(pk=recognition_id).first()
    if recognition is None or recognition.status != Recognition.Status.PENDING:
        return "skipped"  # already answered (a redelivery), or deleted since
    try:
        result = emotion_core.recognize(base64.b64decode(image_b64))
        if not result.faces:
            return finish(recognition, error=_("No face found in the photo. Face the camera in good light and try again."))
        face = result.faces[0]
        recognition.face_count = len(result.faces)
        recognition.face_box = list(face.box)
        recognition.probabilities = {k: round(float(v), 4) for k, v in face.probabilities.items()}
        recognition.emotion = result.emotion
        recognition.songs, recognition.strategy = playlist_for_recognition(recognition)
    except emotion_core.ImageDecodeError as exc:
        return finish(recognition, error=str(exc))
    except TRANSIENT_ERRORS:
        raise  # retried with backoff (autoretry_for); the recognition stays pending meanwhile
    except SoftTimeLimitExceeded:
        log.error("recognition %s ran past the soft time limit", recognition_id)
        return finish(recognition, error=_("This took too long on our side. Please try again."))
    except Exception:
        # Never leave a recognition pending for good: the person gets an answer, we get the trace.
        log.exception("recognition %s failed", recognition_id)
        return finish(recognition, error=_(GAVE_UP_REASON))
    return finish(recognition)


def finish(recognition: Recognition, error: str = "") -> str:
    """Write the outcome once: only a recognition that is still pending is changed."""
    if error:
        recognition.emotion, recognition.probabilities, recognition.songs = "", {}, []
    recognition.status = Recognition.Status.FAILED if error else Recognition.Status.DONE
    recognition.error = error
    recognition.finished_at = timezone.now()
    fields = ("status", "error", "finished_at", "emotion", "probabilities", "face_count", "face_box",
              "songs", "strategy")
    written = Recognition.objects.filter(pk=recognition.pk, status=Recognition.Status.PENDING).update(
        **{name: getattr(recognition, name) for name in fields})
    if written:
        if recognition.songs:  # the review queue counts the playlists a song is on
            add_playlist_songs(recognition.pk, recognition.songs)
        announce_finished([recognition.pk])  # wakes a page long-polling this recognition
    return recognition.status if written else "skipped"


def mark_failed(recognition_ids, reason: str) -> int:
    """Fail the given recognitions that are still pending, with a reason; how many were."""
    recognition_ids = list(recognition_ids)
    failed = Recognition.objects.filter(pk__in=recognition_ids, status=Recognition.Status.PENDING).update(
        status=Recognition.Status.FAILED, error=reason, finished_at=timezone.now())
    if failed:
        announce_finished(recognition_ids)
    return failed


@task_failure.connect(sender=recognise_and_recommend)
def recognition_gave_up(sender=None, task_id=None, exception=None, args=None, kwargs=None, **_ignored):
    """The job failed for good (retries used up, a worker lost too often): answer the person now."""
    recognition_id = (args or [None])[0] or (kwargs or {}).get("recognition_id")
    if not recognition_id:
        return
    try:
        mark_failed([recognition_id], GAVE_UP_REASON)
    except Exception:  # noqa: BLE001 - the database may be what failed; the sweeper answers later
        log.exception("could not mark recognition %s failed after %r", recognition_id, exception)


@shared_task(ignore_result=True)
def sweep_stale_recognitions(older_than_seconds: float | None = None) -> int:
    """Fail recognitions pending for longer than any job can take: their message was lost (a broker
    restart drops queued messages). The image is not kept, so they cannot be re-run: the reason
    asks the person to snap again. Runs from beat; also callable directly. Returns how many."""
    if older_than_seconds is None:
        older_than_seconds = settings.MIEN_RECOGNITION_STALE_AFTER
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stale = list(Recognition.objects.filter(status=Recognition.Status.PENDING, created_at__lt=cutoff)
                 .values_list("pk", flat=True))
    swept = mark_failed(stale, LOST_REASON) if stale else 0
    if swept:
        log.warning("marked %d stale pending recognitions failed (older than %ss)", swept, older_than_seconds)
    return swept


@shared_task(ignore_result=True)
def purge_expired_data() -> dict[str, int]:
    """Beat, daily: anonymous recognitions past MIEN_ANONYMOUS_RETENTION_DAYS and expired sessions."""
    from webapp.retention import purge_expired

    purged = purge_expired()
    log.info("retention: deleted %(recognitions)d anonymous recognition rows and %(sessions)d expired sessions",
             purged)
    return purged
