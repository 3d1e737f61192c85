"""Item pipelines, in order: validate -> tag and label -> ingest, one small pipeline a module.

Each item is one whole song. A malformed one is dropped with a logged reason and counted under
``mien/dropped/<reason>``; nothing of it is written. The pipelines reach the library through
``recommender.library`` only (the one seam that writes songs); IngestPipeline's database work runs
in a worker thread (the ORM is synchronous, Scrapy runs on asyncio).
"""

from .dropping import Dropped  # noqa: F401
from .ingest import IngestPipeline  # noqa: F401
from .tagging import TaggingPipeline  # noqa: F401
from .validation import MAX_DURATION, MAX_LYRICS, MAX_TEXT, REQUIRED, ValidationPipeline  # noqa: F401
