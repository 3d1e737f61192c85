"""Library tag slugs from the sites' tags, and catalogue emotions from the bundled rules."""

from __future__ import annotations

import logging

from crawler import vocabulary

log = logging.getLogger(__name__)


class TaggingPipeline:
    """Library tag slugs from the sites' tags, and emotions from the catalogue's rules.

    Lyrics are not labelled here: the library labels them as they are ingested (with features,
    probabilities and the review queue), whichever spider brought them.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_item(self, item):
        tags, tag_info, emotions = set(item.get("tags") or ()), dict(item.get("tag_info") or {}), {}
        if item.get("playlist_tags") is not None:
            slugs, unknown = vocabulary.netease_tags(item["playlist_tags"])
            tags.update(slugs)
            for token in unknown:
                self.crawler.stats.inc_value("mien/unknown_tag")
                log.info("NetEase tag %r is not in the vocabulary (recommender/catalogue/tags.json)", token)
            emotions = vocabulary.emotions_from_token_sets([t for t in item["playlist_tags"] if t])
        if item.get("jamendo_tags") is not None:
            slugs, info = vocabulary.jamendo_tags(item["jamendo_tags"])
            tags.update(slugs)
            tag_info.update(info)
            emotions = vocabulary.emotions_from_slugs(slugs)
        if item.get("playlist_tags") is not None or item.get("jamendo_tags") is not None:
            item["tags"] = sorted(tags)
            item["tag_info"] = tag_info
        if emotions:
            item["emotions"], item["label_source"] = emotions, "catalogue"
            self.crawler.stats.inc_value("mien/labelled/catalogue_rules")
        return item
