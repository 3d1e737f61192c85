"""Mien's spiders: netease, jamendo, lyrics. They only extract; pipelines clean and save."""
