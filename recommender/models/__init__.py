"""The song library and what people do with it: one package, the app label and tables unchanged.

Bottom-up: ``library`` (tags, songs, emotion labels and their rules) <- ``people``, ``curation``;
``runs`` stands alone. Nothing here imports from the rest of the app.
"""

from .library import *  # noqa: F401,F403
from .library import (EMOTION_LABELS, REVIEW_THRESHOLD, TAG_NAME_PATTERN, TYPICAL_SONGS_PER_EMOTION,  # noqa: F401
                      WEB_URL_PATTERN, WEB_URL_SCHEMES, confidence_error, is_confidence, normalise_key, validate_tag_name, validate_web_url)
from .people import *  # noqa: F401,F403
from .curation import *  # noqa: F401,F403
from .runs import *  # noqa: F401,F403
