"""Real Chromium against the live Django server, with a fake camera that films a real face.

Chromium is Debian's (`apt-get install chromium`, or `make browser`); Playwright drives it through
``executable_path`` and never downloads a browser of its own.
"""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from tests.conftest import skip_or_fail

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make are still
# plain synchronous calls, so Django's async-safety guard would refuse them without this.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
expect.set_options(timeout=15_000)  # a shared 2-core test machine is slower than a laptop

CHROMIUM = os.environ.get("MIEN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
WIDTH, HEIGHT = 640, 480
COMMON_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# Head and shoulders of the astronaut portrait (512 x 512): a square around her face, which sits
# at about x 176-272, y 65-161, so the face fills the frame the way a selfie camera sees one.
PORTRAIT_CROP = (74, 0, 300)  # left, top, side


def letterboxed_face(width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """scikit-image's public-domain astronaut portrait, centred on a neutral grey frame."""
    from skimage import data

    left, top, crop = PORTRAIT_CROP
    portrait = data.astronaut()[top:top + crop, left:left + crop]
    side = min(width, height)
    index = np.arange(side) * crop // side  # nearest-neighbour scaling, numpy only
    scaled = portrait[index][:, index]
    frame = np.full((height, width, 3), 128, dtype=np.uint8)
    top, left = (height - side) // 2, (width - side) // 2
    frame[top:top + side, left:left + side] = scaled
    return frame


def rgb_to_yuv420(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.601 limited-range ("studio swing") Y, Cb, Cr planes, chroma averaged over 2 x 2 blocks.

    Chromium reads .y4m frames as limited range, so these come out of its fake camera with the
    photo's own brightness and contrast.
    """
    r, g, b = (rgb[..., i].astype(np.float64) / 255 for i in range(3))
    luma = 0.299 * r + 0.587 * g + 0.114 * b
    y = 16 + 219 * luma
    cb = 128 + 224 * (b - luma) / 1.772
    cr = 128 + 224 * (r - luma) / 1.402

    def subsample(plane):
        h, w = plane.shape
        return plane.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))

    def to_bytes(plane):
        return np.clip(np.rint(plane), 0, 255).astype(np.uint8)

    return to_bytes(y), to_bytes(subsample(cb)), to_bytes(subsample(cr))


def write_y4m(path: Path, rgb: np.ndarray, frames: int = 10, fps: int = 10) -> Path:
    height, width = rgb.shape[:2]
    planes = b"".join(p.tobytes() for p in rgb_to_yuv420(rgb))
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg XYSCSS=420JPEG\n".encode("ascii"))
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(planes)
    return path


@pytest.fixture(scope="session")
def fake_camera_video(tmp_path_factory) -> Path:
    """A few frames of a face, as a .y4m file Chromium's fake camera plays in a loop."""
    return write_y4m(tmp_path_factory.mktemp("camera") / "face.y4m", letterboxed_face())


@pytest.fixture(scope="session")
def playwright_instance():
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"Chromium not found at {CHROMIUM}: run `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    yield manager
    manager.stop()


def launch(playwright_instance, extra_args):
    return playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=COMMON_ARGS + extra_args)


@pytest.fixture(scope="session")
def browser(playwright_instance, fake_camera_video):
    """Chromium with a fake camera that films the astronaut and grants camera access."""
    chromium = launch(playwright_instance, [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={fake_camera_video}",
    ])
    yield chromium
    chromium.close()


@pytest.fixture(scope="session")
def browser_refusing_camera(playwright_instance):
    """Chromium with a camera but no automatic yes: without a granted permission, access is refused."""
    chromium = launch(playwright_instance, ["--use-fake-device-for-media-stream"])
    yield chromium
    chromium.close()


def new_page(chromium, **context_options):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", **context_options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("pageerror", lambda error: page.mien_errors.append(str(error)))
    page.mien_errors = []
    return page


@pytest.fixture
def page(browser):
    page = new_page(browser)
    yield page
    page.context.close()


@pytest.fixture
def page_refusing_camera(browser_refusing_camera):
    page = new_page(browser_refusing_camera, permissions=[])  # getUserMedia rejects: NotAllowedError
    yield page
    page.context.close()


# --------------------------------------------------------------------------- curators in the admin

PASSWORD = "a-long-test-password"


def sign_in(page, url, username, password=PASSWORD):
    """The admin's log-in form, filled and sent as a person does."""
    page.goto(f"{url}/admin/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("input[type=submit]").click()


@pytest.fixture
def make_curator(django_user_model):
    """A staff account in the curators' group (the admin's curation screens), by name."""
    from recommender import curation

    def make(username):
        curator = django_user_model.objects.create_user(username, password=PASSWORD, is_staff=True)
        curator.groups.add(curation.curator_group())
        return curator

    return make
