"""A zh-CN Chromium walks Mien and meets no English: sign-up (with its errors), the snap flow with
the fake camera, My music, and a curator's review queue. Song titles, artists, tags and lyrics are
data and keep their own language; everything else on screen (and read aloud) must be Chinese."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from recommender.library import ingest_many
from recommender.models import Tag
from tests.browser.conftest import CHROMIUM, COMMON_ARGS, PASSWORD, sign_in
from tests.browser.test_snapshot import RESULT_TIMEOUT_MS, load_catalogue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot-zh.png"
# Names that are the same in Chinese: the product, file formats, units, services without a Chinese name.
SAME_IN_CHINESE = {"Mien", "JPEG", "PNG", "WebP", "GIF", "BMP", "MB", "Excel", "Jamendo", "Deezer", "Spotify",
                   "ID", "F1"}
# Data, not interface: what songs are called and tagged, their lyrics and stored label records,
# and the user names people chose.
# Language names are written in their own language, on purpose (an English reader must find "English").
DATA = ("#language option[lang=en], .song-title, .song-artist, .tags, .why-tags, .username, "
        "td.field-title_link, td.field-artist, td.field-lyrics_excerpt, td.field-probabilities, "
        "th.field-title, th.field-title_link, #user-tools strong, "
        # a row's check box is read aloud with the song's name
        "input.action-select, "
        # Django writes these without translating them: alt="Search" in admin/search_form.html,
        # alt="True"/"False" on a boolean column's icon
        "#changelist-search label img, img[src$='icon-yes.svg'], img[src$='icon-no.svg']")

VISIBLE_TEXT = """(data) => {
  const skip = (node) => node.closest && node.closest(data);
  const texts = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  for (let node = walker.currentNode; node; node = walker.nextNode()) {
    const element = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
    if (!element || skip(element) || element.closest("script, style, template")) continue;
    const shown = element.closest("option") || element.checkVisibility();
    if (!shown) continue;
    if (node.nodeType === Node.TEXT_NODE) { texts.push(node.textContent); continue; }
    for (const name of ["title", "aria-label", "placeholder", "alt"]) {
      if (element.hasAttribute(name)) texts.push(element.getAttribute(name));
    }
    if (element.matches("input[type=submit], input[type=button]")) texts.push(element.value);
  }
  return texts.join("\\n");
}"""


def english_on(page) -> list[str]:
    """Each line of visible text holding an English word."""
    lines = page.evaluate(VISIBLE_TEXT, DATA).splitlines()
    # Command and setting names (label_songs, MIEN_STORE_LYRICS, manage.py) are typed as they are.
    names = re.compile(r"\w+_\w+|manage\.py")
    return sorted({line.strip() for line in lines if any(
        w not in SAME_IN_CHINESE for w in re.findall(r"[A-Za-z][A-Za-z'-]+", names.sub(" ", line)))})


def assert_chinese(page, where):
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    found = english_on(page)
    assert not found, f"English on {where} ({page.url}): {found}"


@pytest.fixture(scope="module")
def zh_browser(playwright_instance, fake_camera_video):
    """A Chinese Chromium (its own controls, such as the file chooser's button, in Chinese too)."""
    # On Linux, Chromium takes its own language from LANGUAGE (its --lang switch is for Windows).
    chromium = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, env={**os.environ, "LANGUAGE": "zh_CN"},
        args=COMMON_ARGS + ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                            f"--use-file-for-fake-video-capture={fake_camera_video}"])
    yield chromium
    chromium.close()


@pytest.fixture
def zh_page(zh_browser):
    context = zh_browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert not errors, errors
    context.close()


def test_a_chinese_reader_signs_up_snaps_and_keeps_music_in_chinese(live_server, zh_page):
    page = zh_page
    load_catalogue()
    page.goto(f"{live_server.url}/accounts/signup/")
    assert_chinese(page, "the sign-up page")
    page.locator("#id_username").fill("xiaoming")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD + "-typo")
    page.locator("form.stacked-form button[type=submit]").click()
    expect(page.locator(".errorlist")).to_be_visible()
    assert_chinese(page, "the sign-up page with its errors")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.locator("form.stacked-form button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/")

    expect(page.locator("#snap")).to_be_enabled()
    assert_chinese(page, "the snapshot page before a snap")
    page.locator("#snap").click()
    expect(page.locator("#result-body")).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    expect(page.locator("#playlist li.song").nth(9)).to_be_visible()
    expect(page.locator("#emotion")).to_have_text(re.compile(r"^(愤怒|厌恶|恐惧|快乐|悲伤|惊讶|平静)$"))
    expect(page.locator(".probability-value").first).to_have_text(re.compile(r"^\d+%$"))
    first = page.locator("#playlist li.song").first
    expect(first.locator(".song-score")).to_have_text(re.compile(r"^匹配度 \d+%$"))
    first.locator("button.save").click()
    expect(first.locator("button.save")).to_have_text("已收藏")
    first.locator("button.typical").click()
    expect(first.locator("button.typical")).to_have_attribute("aria-pressed", "true")
    first.locator("button.play").click()
    expect(first.locator("button.play")).to_have_text("收起播放器")
    assert_chinese(page, "the snapshot page with a playlist")
    if os.environ.get("MIEN_SCREENSHOT") == "1":  # the README's Chinese screenshot, beside the English one
        first.locator("button.play").click()
        page.set_viewport_size({"width": 1280, "height": 1200})
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOT), full_page=False)

    page.get_by_role("link", name="我的音乐").click()
    expect(page).to_have_url(f"{live_server.url}/me/music/")
    expect(page.locator("#favourites li.saved-song")).to_have_count(1)
    expect(page.locator("#mood-history .history-item")).to_have_count(1)
    expect(page.locator("#mood-history time")).to_have_text(re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日"))
    page.locator("#typical-search-query").fill("rock")
    page.locator("#typical-search button[type=submit]").click()
    expect(page.locator("#typical-search-status")).to_be_visible()
    expect(page.locator("#typical-search-status")).not_to_have_text("正在搜索…")
    assert_chinese(page, "My music")


def test_a_chinese_curator_reviews_the_queue_in_chinese(live_server, zh_page, make_curator):
    page = zh_page
    ingest_many([{"source": "jamendo", "external_id": str(n), "title": f"Tune {n}", "artist": f"Band {n}",
                  "tags": ["rock", "dance"], "emotions": {"angry": confidence}, "url": f"https://example.com/{n}"}
                 for n, confidence in ((1, 0.15), (2, 0.25))], label_source="model")
    Tag.objects.filter(name="rock").update(name_en="rock", name_zh="摇滚")  # as the catalogue's tags are
    Tag.objects.filter(name="dance").update(name_en="dance", name_zh="舞曲")
    make_curator("laoshi")

    sign_in(page, live_server.url, "laoshi")
    expect(page.locator("#site-name")).to_contain_text("Mien 曲库管理")
    assert_chinese(page, "the admin's index")

    page.goto(f"{live_server.url}/admin/recommender/songreview/")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    assert_chinese(page, "the review queue")
    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option("approve_model_labels")
    page.locator("button[name=index]").click()
    expect(page.locator("ul.messagelist")).to_contain_text("已确认 2 首歌曲。")
    assert_chinese(page, "the review queue after approving")

    page.goto(f"{live_server.url}/admin/recommender/song/")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    assert_chinese(page, "the song list")
