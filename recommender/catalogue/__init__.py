"""The bundled starter catalogue: its data files (songs.jsonl.gz, tags.json, rules.json, written by
scripts/build_catalogue.py) and the rules they were made with (tags.py, rules.py), standard library
only, so the build script, the crawler and the app share one copy of each rule."""
