"""Mien's Scrapy project: spiders that extract songs, pipelines that hand them to the library seam."""
