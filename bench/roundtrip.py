"""One snapshot's round trip against a running server: POST the photo, long-poll until done.

    python -m bench.roundtrip [--base http://127.0.0.1:8000] [--repeats 10]
"""

import argparse
import io
import statistics
import time

import requests
from PIL import Image


def photo() -> bytes:
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def round_trip(session: requests.Session, base: str, image: bytes) -> tuple[float, dict]:
    started = time.perf_counter()
    csrf = session.cookies.get("csrftoken")
    posted = session.post(f"{base}/api/recognitions", files={"image": ("me.jpg", image, "image/jpeg")},
                          headers={"X-CSRFToken": csrf, "Referer": base + "/"})
    posted.raise_for_status()
    while True:
        body = session.get(base + posted.json()["url"], params={"wait": 10}).json()  # as the page does
        if body["status"] != "pending":
            return time.perf_counter() - started, body


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    session = requests.Session()
    session.get(args.base + "/").raise_for_status()  # the CSRF cookie
    image = photo()
    times = []
    for _ in range(args.repeats):
        seconds, body = round_trip(session, args.base, image)
        assert body["status"] == "done", body
        times.append(seconds)
    print(f"{args.repeats} snapshots: median {statistics.median(times) * 1000:.0f} ms, "
          f"first {times[0] * 1000:.0f} ms, max {max(times) * 1000:.0f} ms; emotion {body['emotion']}, "
          f"{len(body['songs'])} songs")


if __name__ == "__main__":
    main()
