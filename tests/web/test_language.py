"""The interface language: Accept-Language first, then the footer's choice, then the account's."""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from recommender.models import Recognition
from webapp.models import LanguageSetting

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}
PASSWORD = "a-long-test-password"


def heading(response) -> str:
    html = response.content.decode()
    return html[html.index("<h1>") + 4:html.index("</h1>")]


def switch_language(client, code, **headers):
    return client.post(reverse("set_language"), {"language": code, "next": "/"}, **headers)


def test_it_follows_the_browser_on_a_first_visit(client):
    assert heading(client.get("/", **ZH)) == "你现在心情如何？"
    assert client.get("/", **ZH)["Content-Language"] == "zh-hans"
    assert heading(client.get("/", **EN)) == "How do you feel?"


def test_the_footer_choice_outlasts_the_browser_language(client):
    response = switch_language(client, "zh-hans", **EN)
    assert response.status_code == 302
    assert heading(client.get("/", **EN)) == "你现在心情如何？"
    switch_language(client, "en", **ZH)
    assert heading(client.get("/", **ZH)) == "How do you feel?"


def test_a_signed_in_choice_is_kept_on_the_account_and_applied_at_the_next_log_in(client, owner):
    client.force_login(owner)
    switch_language(client, "zh-hans", **EN)
    assert LanguageSetting.objects.get(user=owner).language == "zh-hans"

    elsewhere = client.__class__()  # another browser, in English, no cookie
    response = elsewhere.post(reverse("login"), {"username": "owner", "password": PASSWORD}, **EN)
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert heading(elsewhere.get("/", **EN)) == "你现在心情如何？"


def test_a_choice_made_before_signing_up_becomes_the_accounts(client):
    switch_language(client, "zh-hans", **EN)
    client.post(reverse("signup"), {"username": "newcomer", "password1": PASSWORD, "password2": PASSWORD}, **EN)
    assert LanguageSetting.objects.get(user__username="newcomer").language == "zh-hans"


def test_an_unknown_language_is_not_kept(client, owner):
    client.force_login(owner)
    switch_language(client, "xx", **EN)
    assert not LanguageSetting.objects.exists()


def test_forms_and_their_errors_speak_chinese(client):
    response = client.post(reverse("signup"), {"username": "", "password1": "a", "password2": "b"}, **ZH)
    html = response.content.decode()
    assert "创建你的账户" in html and "这个字段是必填项。" in html  # ours, and Django's own


def test_api_errors_speak_the_readers_language(client):
    missing = reverse("api:recognition", args=["00000000-0000-0000-0000-000000000000"])
    assert client.get(missing, **ZH).json()["error"] == "没有这条识别记录。"
    assert client.get(missing, **EN).json()["error"] == "No such recognition."
    refused = client.post(reverse("api:favourites"), "{}", content_type="application/json", **ZH)
    assert refused.status_code == 401 and refused.json()["error"] == "请登录后再收藏歌曲。"


def test_a_decoder_reason_stored_in_english_is_shown_in_chinese(client, face_photo):
    # A damaged upload is refused by the view now; a reason the worker's decoder stored (str(exc), in
    # English) is still read in the reader's language.
    from recommender.emotion.images import DAMAGED as reason

    upload = SimpleUploadedFile("selfie.jpg", face_photo, "image/jpeg")
    url = client.post(reverse("api:recognitions"), {"image": upload}, **ZH).json()["url"]
    Recognition.objects.update(status=Recognition.Status.FAILED, error=reason, songs=[])
    assert client.get(url, **ZH).json()["error"] == "图片文件已损坏或不完整，请重新上传。"


def test_a_playlist_in_chinese_names_emotions_strategies_and_tags_in_chinese(client, catalogue, face_photo):
    upload = SimpleUploadedFile("selfie.jpg", face_photo, "image/jpeg")
    url = client.post(reverse("api:recognitions"), {"image": upload}, **ZH).json()["url"]
    result = client.get(url, **ZH).json()
    assert result["status"] == "done", result
    chinese_emotions = {"愤怒", "厌恶", "恐惧", "快乐", "悲伤", "惊讶", "平静"}
    assert result["emotion_label"] in chinese_emotions
    assert result["strategy_label"] in {"契合你的心情", "为让你心情变好而选：先舒缓，再欢快",
                                        "你的表情不太明确，所以混合了几种可能的心情"}
    tags = {tag for song in result["songs"] for tag in song["tags"] + song["why"]}
    chinese = {tag for tag in tags if any("\u4e00" <= ch <= "\u9fff" for ch in tag)}
    assert len(chinese) >= len(tags) * 0.9, sorted(tags - chinese)  # the catalogue's tags carry zh names
    english = client.get(url, **EN).json()
    assert english["emotion_label"] not in chinese_emotions


def test_dates_in_the_mood_history_follow_the_language(client, owner):
    Recognition.objects.create(user=owner, status="done", emotion="happy", probabilities={"happy": 1.0})
    client.force_login(owner)
    switch_language(client, "zh-hans")
    html = client.get(reverse("my_music")).content.decode()
    assert "心情记录" in html and "快乐" in html
    recognition = Recognition.objects.get()
    assert f"{recognition.created_at:%Y}年{recognition.created_at.month}月{recognition.created_at.day}日" in html


def test_the_busy_answer_speaks_the_readers_language():
    from django.utils import translation

    from webapp.middleware import busy_message

    with translation.override("zh-hans"):
        assert busy_message() == "服务正忙，请稍后再试。"
    with translation.override("en"):
        assert busy_message() == "The service is busy right now: please try again in a moment."


def test_a_refusal_before_the_locale_middleware_speaks_this_requests_language_not_the_last_ones(client, settings):
    # The size check runs first, before LocaleMiddleware; a worker thread keeps the language its
    # previous request activated, so each request below follows one in the other language.
    settings.MIEN_MAX_REQUEST_BYTES = 2 * 1024 * 1024

    def oversized(**headers):
        return client.post(reverse("api:favourites"), data=b"{}", content_type="application/json",
                           CONTENT_LENGTH="50000000", **headers)

    client.get("/", **ZH)
    english = oversized(**EN)
    assert english.status_code == 413 and "too large" in english.json()["error"]
    assert english["Content-Language"] == "en"
    client.get("/", **EN)
    chinese = oversized(**ZH)
    assert chinese.status_code == 413 and chinese.json()["error"] == "请求太大了：上限为 2.0 MB。"
    switch_language(client, "zh-hans", **EN)  # the footer's choice counts here too
    assert "请求太大了" in oversized(**EN).json()["error"]
