"""How a pipeline drops an item: with a short reason slug, counted in the crawl's stats."""

from scrapy.exceptions import DropItem


class Dropped(DropItem):
    """DropItem with a short reason slug, counted in the stats."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def drop(crawler, reason: str, detail: str):
    crawler.stats.inc_value("mien/dropped")
    crawler.stats.inc_value(f"mien/dropped/{reason}")
    raise Dropped(reason, detail)
