"""What the spiders extract: one song per item.

The fields named in ``SEAM_FIELDS`` are what ``recommender.library.ingest`` takes (``lyrics`` is
labelled and then kept only while needed); the rest are raw material for the pipelines (tag tokens).
A song's lyrics may come in a later item of their own (source, external_id, title, artist, lyrics).
"""

import scrapy

SEAM_FIELDS = ("source", "external_id", "title", "artist", "tags", "url", "embed_url", "audio_url",
               "popularity", "duration", "album", "license_url", "emotions", "lyrics", "lyrics_checked")


class SongItem(scrapy.Item):
    source = scrapy.Field()          # Song.Source value: "netease", "jamendo", ...
    external_id = scrapy.Field()     # the site's own id, as a string
    title = scrapy.Field()
    artist = scrapy.Field()          # several artists joined with " / "
    album = scrapy.Field()
    duration = scrapy.Field()        # seconds
    popularity = scrapy.Field()      # 0-100
    url = scrapy.Field()             # public page
    embed_url = scrapy.Field()       # embeddable player
    audio_url = scrapy.Field()       # direct audio stream
    license_url = scrapy.Field()     # Creative Commons deed (Jamendo)
    lyrics = scrapy.Field()          # plain text, no timestamps
    lyrics_source = scrapy.Field()   # "netease" or "lrclib"
    lyrics_checked = scrapy.Field()  # True: looked up, no lyrics found (the library waits before asking again)
    instrumental = scrapy.Field()    # the site says the song has no lyrics
    # Raw tag material, turned into library tag slugs and emotions by TaggingPipeline:
    playlist_tags = scrapy.Field()   # NetEase: one list of tag tokens per playlist the song is on
    jamendo_tags = scrapy.Field()    # Jamendo: {"genres": [...], "instruments": [...], "vartags": [...]}
    # Filled in by TaggingPipeline:
    tags = scrapy.Field()            # library tag slugs
    tag_info = scrapy.Field()        # {slug: {"en", "zh", "kind"}} for slugs new to the vocabulary
    emotions = scrapy.Field()        # {emotion: confidence}
    label_source = scrapy.Field()    # EmotionLabel source of `emotions`: "catalogue" or "model"
