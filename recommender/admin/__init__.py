"""The curators' Django admin, one module a room: songs (songs.py), the review queue (review_queue.py),
background runs (retrain.py, crawl.py), and what the song list and the queue share (common.py).
Importing the package registers every model admin (Django's autodiscover imports it)."""

from . import crawl, retrain  # noqa: F401  (register CrawlRun, ClassifierRun)
from .common import (ConfidenceBandFilter, CurationActions, HasLyricsFilter, LabelEmotionFilter,  # noqa: F401
                     LabelSourceFilter, TagFilter, emotion_name, source_name)
from .review_queue import SongReviewAdmin, describe_in_language  # noqa: F401
from .songs import LabelChangeAdmin, RecognitionAdmin, SongAdmin, TagAdmin  # noqa: F401
