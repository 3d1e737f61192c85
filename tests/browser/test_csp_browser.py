"""The camera page works under the Content-Security-Policy and Permissions-Policy headers, and the
policy is really enforced (issue #16: no CSP, no Permissions-Policy before)."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESULT_TIMEOUT_MS = 120_000
COLLECT_VIOLATIONS = """
window.mienViolations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.mienViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


def test_the_camera_page_snaps_and_plays_under_the_policies(live_server, page):
    call_command("import_catalogue", stdout=io.StringIO())
    page.add_init_script(COLLECT_VIOLATIONS)
    console = []
    page.on("console", lambda message: console.append(message.text))
    response = page.goto(f"{live_server.url}/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "camera=(self)" in response.headers["permissions-policy"]

    snap = page.locator("#snap")
    expect(snap).to_be_enabled()  # getUserMedia allowed by Permissions-Policy: the fake camera streams
    snap.click()
    expect(page.locator("#result-body")).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    expect(page.locator("#error")).to_be_hidden()
    songs = page.locator("#playlist li.song")
    expect(songs.nth(0)).to_be_visible()
    assert page.locator(".bar").evaluate_all("bars => bars.map(b => parseFloat(b.style.width) || 0)")[0] >= 0
    songs.first.locator("button.play").click()
    expect(songs.first.locator(".player iframe, .player audio")).to_have_count(1)

    assert page.evaluate("window.mienViolations") == []
    assert not [line for line in console if "Content Security Policy" in line], console
    assert not page.mien_errors, page.mien_errors

    # The policy is enforced, not just sent: an injected inline script does not run.
    ran = page.evaluate("""() => { const s = document.createElement("script");
        s.textContent = "window.mienInjected = true"; document.head.appendChild(s);
        return window.mienInjected === true; }""")
    assert ran is False
    page.wait_for_function("window.mienViolations.length > 0")
    assert page.evaluate("window.mienViolations")[0].startswith("script-src")
