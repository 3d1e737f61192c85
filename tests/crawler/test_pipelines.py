"""The pipelines alone, on crawlers from scrapy.utils.test.get_crawler."""

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.items import SongItem
from crawler.pipelines import IngestPipeline, TaggingPipeline, ValidationPipeline
from tests.crawler.conftest import on_reactor


@pytest.fixture
def crawler(reactor):
    return get_crawler(settings_dict={"INGEST_BATCH_SIZE": 2})


def song(external_id="1", source="netease", **fields):
    base = {"source": source, "external_id": external_id, "title": f"Song {external_id}", "artist": "Singer"}
    return SongItem(**{**base, **fields})


@pytest.mark.parametrize(("fields", "reason"), [
    ({"title": ""}, "missing_title"),
    ({"title": None}, "missing_title"),
    ({"artist": "   "}, "missing_artist"),
    ({"artist": ["not", "text"]}, "missing_artist"),
    ({"external_id": None}, "missing_external_id"),
    ({"source": "myspace"}, "unknown_source"),
    ({"title": "x" * 301}, "bad_title"),
    ({"playlist_tags": ["快乐"]}, "bad_tags"),
    ({"jamendo_tags": {"genres": "rock"}}, "bad_tags"),
])
def test_validation_drops_a_malformed_song_with_its_reason(crawler, fields, reason):
    pipeline = ValidationPipeline.from_crawler(crawler)

    with pytest.raises(DropItem, match=reason):
        pipeline.process_item(song(**fields))

    assert crawler.stats.get_value(f"mien/dropped/{reason}") == 1
    assert crawler.stats.get_value("mien/dropped") == 1


def test_validation_tidies_a_good_song_and_clears_bad_optional_fields(crawler):
    pipeline = ValidationPipeline.from_crawler(crawler)

    item = pipeline.process_item(song(external_id=42, title="  Two   Spaces ", duration=-3, popularity=300,
                                      url="javascript:alert(1)", audio_url="https://cdn.example/a.mp3",
                                      lyrics=["not", "text"]))

    assert (item["external_id"], item["title"]) == ("42", "Two Spaces")
    assert (item["duration"], item["popularity"], item["url"], item["lyrics"]) == (None, None, "", None)
    assert item["audio_url"] == "https://cdn.example/a.mp3"
    assert crawler.stats.get_value("mien/cleared/duration") == 1
    assert crawler.stats.get_value("mien/dropped") is None


def test_tagging_maps_site_tags_to_library_slugs_and_catalogue_emotions(crawler, reactor):
    pipeline = TaggingPipeline.from_crawler(crawler)

    netease = on_reactor(reactor, lambda: pipeline.process_item(song(
        playlist_tags=[["华语", "安静", "不存在的标签"], ["华语", "学习"]])))
    jamendo = on_reactor(reactor, lambda: pipeline.process_item(song(
        source="jamendo", jamendo_tags={"genres": ["Post-Rock"], "instruments": ["didgeridoo"], "vartags": []})))

    assert netease["tags"] == ["calm", "chinese", "study"]
    assert netease["emotions"] == {"neutral": 0.75} and netease["label_source"] == "catalogue"
    assert crawler.stats.get_value("mien/unknown_tag") == 1
    assert jamendo["tags"] == ["didgeridoo", "post-rock"]
    assert jamendo["tag_info"] == {"didgeridoo": {"en": "Didgeridoo", "zh": "", "kind": "instrument"}}
    assert "emotions" not in jamendo


def test_tagging_leaves_lyrics_to_the_library(crawler, reactor):
    pipeline = TaggingPipeline.from_crawler(crawler)

    untagged = on_reactor(reactor, lambda: pipeline.process_item(song(lyrics="tears in the rain", playlist_tags=[[]])))
    tagged = on_reactor(reactor, lambda: pipeline.process_item(song(lyrics="la", playlist_tags=[["快乐"]])))

    assert "emotions" not in untagged  # labelled from its lyrics by recommender.library.ingest_many
    assert tagged["emotions"] == {"happy": 1.0} and tagged["label_source"] == "catalogue"


def test_an_instrumental_song_is_marked_as_looked_up():
    assert IngestPipeline.seam_item(song(instrumental=True))["song"]["lyrics_checked"] is True
    assert "lyrics_checked" not in IngestPipeline.seam_item(song(lyrics="la"))["song"]


def ingest_entry(item, label_source="catalogue"):
    entry = IngestPipeline.seam_item(item)
    entry["label_source"] = label_source
    return entry


@pytest.mark.django_db
def test_ingest_is_idempotent_and_merges_the_same_song_from_two_sources(crawler):
    from recommender.models import Song

    pipeline = IngestPipeline.from_crawler(crawler)
    first = [ingest_entry(song("1", title="Rain", artist="Beat Bazaar", tags=["sad"], emotions={"sad": 0.9})),
             ingest_entry(song("2", tags=["pop"]))]

    assert pipeline.ingest(first) == {"mien/ingest/created": 2, "mien/ingest/updated": 0, "mien/ingest/merged": 0}
    assert pipeline.ingest(first) == {"mien/ingest/created": 0, "mien/ingest/updated": 0, "mien/ingest/merged": 0}
    counts = pipeline.ingest([ingest_entry(song("950", source="jamendo", title="RAIN!", artist="beat bazaar",
                                                tags=["metal"]))])

    assert counts["mien/ingest/merged"] == 1
    assert Song.objects.count() == 2
    rain = Song.objects.get(source="netease", external_id="1")
    assert sorted(rain.tags.values_list("name", flat=True)) == ["metal", "sad"]
    assert list(rain.labels.values_list("emotion", "source")) == [("sad", "catalogue")]


@pytest.mark.django_db
def test_ingest_isolates_a_song_that_fails_and_keeps_the_others(crawler, monkeypatch):
    import recommender.library as library
    from recommender.models import Song

    real = library.ingest_many

    def fragile(items, **kwargs):
        if any(item["external_id"] == "bad" for item in items):
            raise RuntimeError("database said no")
        return real(items, **kwargs)

    monkeypatch.setattr(library, "ingest_many", fragile)
    pipeline = IngestPipeline.from_crawler(crawler)

    counts = pipeline.ingest([ingest_entry(song("1")), ingest_entry(song("bad")), ingest_entry(song("3"))])

    assert counts["mien/ingest/created"] == 2
    assert counts["mien/dropped/ingest_error"] == 1 and counts["mien/dropped"] == 1
    assert sorted(Song.objects.values_list("external_id", flat=True)) == ["1", "3"]


@pytest.mark.django_db(transaction=True)
def test_ingest_writes_in_batches_from_the_event_loop_and_flushes_on_close(crawler, reactor):
    from recommender.models import Song

    pipeline = IngestPipeline.from_crawler(crawler)  # INGEST_BATCH_SIZE = 2

    for n in range(3):
        on_reactor(reactor, lambda n=n: pipeline.process_item(song(str(n))))
    assert Song.objects.count() == 2  # one full batch written, one song waiting
    on_reactor(reactor, pipeline.close_spider)

    assert Song.objects.count() == 3
    assert crawler.stats.get_value("mien/ingest/created") == 3
