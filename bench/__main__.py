"""`make bench`: every benchmark, each in its own process, results into docs/benchmarks.md."""

import json
from datetime import date

from bench.common import RESULTS, machine, run_child

BENCHES = {
    "emotion": "Emotion inference (one CPU thread): served LiteRT path vs the traced TensorFlow function vs `model.predict`",
    "detector": "Face detectors compared on real faces held offline, with tilted, dim and back-lit variants "
                "(see bench/bench_detector.py)",
    "face_path": "The selfie path stage by stage on one CPU thread, and the effect of eye alignment on accuracy",
    "ranking": "Ranking 100,000 songs x 200 tags: `recommend` vs the obvious Python loop",
    "hitrate": "Offline hit rate @10 of a held-out song, per emotion, on the bundled catalogue "
               "(protocol in bench/bench_hitrate.py and docs/recommendation.md)",
    "playlists": "Ranking on real playlists: leave-one-playlist-out on 634 NetEase playlists, even ids reported "
                 "(protocol in bench/bench_playlists.py and docs/recommendation.md)",
    "training": "Training mien_vgg, one step of 64 augmented faces: previous per-image pipeline vs in-graph, float32 vs bfloat16, 48 px vs 40 px crops",
    "lyrics": "Labelling 10,000 songs from lyrics (target < 60 s)",
    "ingest": "Bulk ingest into PostgreSQL through `recommender.library.ingest_many` (target >= 500 songs/s)",
    "review": "The curators' review queue page on the full catalogue (9,282 songs) with people's signals",
    "load": "Load: 20 clients snapping for 60 s (long-poll) against gunicorn + 2 Celery workers on PostgreSQL and Redis",
}


def run_one(name: str) -> dict:
    return run_child(f"import json; from bench.bench_{name} import run; print('RESULT ' + json.dumps(run()))",
                     show_stderr=name == "load")  # a minute or more: say how it goes


def main():
    sections = [f"# Benchmarks\n\nMeasured {date.today().isoformat()} by `make bench` on: {machine()}.\n"
                "Medians of repeated runs in one process; ratios are against the baseline measured in the "
                "same process.\n"]
    for name, title in BENCHES.items():
        print(f"running {name} ...", flush=True)
        result = run_one(name)
        print(json.dumps(result), flush=True)
        rows = "\n".join(f"| {k} | {v} |" for k, v in result.items())
        sections.append(f"## {title}\n\n| measure | value |\n|---|---|\n{rows}\n")
    sections.append("## Snapshot round trip\n\nAgainst a running server (`make run`, or web + `make worker` with "
                    "`REDIS_URL`): `python -m bench.roundtrip --base http://127.0.0.1:8000 --repeats 10` posts the "
                    "astronaut photo and waits (long-poll) until the playlist is ready; it prints the median.\n")
    RESULTS.write_text("\n".join(sections))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
