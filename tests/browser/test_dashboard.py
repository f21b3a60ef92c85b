"""The dashboard as a person uses it: headless Chromium (Debian's, driven by Playwright) against
`cgw dev`: sign up by email, the code from the stack's output, the first key, a request with it,
its row on the Logs page, revoke, the key refused. Screenshots of each page go to docs/screenshots/."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.outbox import printed_code
from tests.support.proxy import first_answer_with_status, send_message
from tests.support.stack import REPO, RunningStack

playwright_api = pytest.importorskip("playwright.sync_api")
# CGW_UPDATE_SCREENSHOTS=1 refreshes docs/screenshots/ (the README shows them); otherwise they go to a scratch folder.
SCREENSHOTS = REPO / "docs" / "screenshots"


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("Debian's chromium is not installed (make test installs it with apt-get)")
    return found


@pytest.fixture(scope="module")
def browser_page() -> Iterator[object]:
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=_chromium(), headless=True)
        context = browser.new_context(viewport={"width": 1100, "height": 720})
        yield context.new_page()
        context.close()
        browser.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("CGW_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")


def _shot(page: object, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"))  # type: ignore[attr-defined]
    assert (folder / f"{name}.png").stat().st_size > 5000


def test_a_person_signs_up_uses_their_key_sees_it_in_the_logs_and_revokes_it(
    stack: RunningStack, browser_page: object, screenshots: Path
) -> None:
    page = browser_page
    email = f"browser-{secrets.token_hex(4)}@example.com"
    mark = len(stack.output)
    answer = page.goto(f"{stack.base_url}/dashboard")  # type: ignore[attr-defined]
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert "'unsafe-inline'" not in answer.headers["content-security-policy"]
    page.fill("#email", email)  # type: ignore[attr-defined]
    _shot(page, screenshots, "1-sign-in")
    page.click("text=Email me a code")  # type: ignore[attr-defined]
    page.fill("#code", printed_code(stack, email, mark))  # type: ignore[attr-defined]
    page.click("text=Continue")  # type: ignore[attr-defined]
    assert "starter credit of $2.00" in page.inner_text("main")  # type: ignore[attr-defined]
    key = page.inner_text("#new-key").strip()  # type: ignore[attr-defined]
    assert key.startswith("sk-cg-")
    exports = page.inner_text("#new-key-exports")  # type: ignore[attr-defined]
    assert f"export ANTHROPIC_BASE_URL={stack.base_url}" in exports and f"export ANTHROPIC_API_KEY={key}" in exports
    _shot(page, screenshots, "2-first-key")

    session_cookie = next(c for c in page.context.cookies() if c["name"] == "cgw_session")  # type: ignore[attr-defined]
    assert session_cookie["httpOnly"] and session_cookie["sameSite"] == "Strict"

    sent = send_message(stack, key)
    assert sent.status_code == 200, sent.text
    key_id = key.removeprefix("sk-cg-").split("_")[0]

    page.goto(f"{stack.base_url}/dashboard/logs")  # type: ignore[attr-defined]
    assert key_id in page.inner_text("table")  # type: ignore[attr-defined]
    _shot(page, screenshots, "3-logs")
    for name in ("balance", "sessions", "setup"):
        page.goto(f"{stack.base_url}/dashboard/{name}")  # type: ignore[attr-defined]
        _shot(page, screenshots, f"4-{name}")
    assert stack.base_url in page.inner_text("main")  # type: ignore[attr-defined]

    page.goto(f"{stack.base_url}/dashboard/keys")  # type: ignore[attr-defined]
    assert "never" not in page.inner_text("table")  # type: ignore[attr-defined]
    _shot(page, screenshots, "5-keys")
    page.click("button[aria-label='Revoke key first key']")  # type: ignore[attr-defined]
    assert "is revoked" in page.inner_text("main")  # type: ignore[attr-defined]
    # A revocation reaches every instance within a second (the key records' cache age).
    assert first_answer_with_status(stack, key, 401).json()["error"]["type"] == "authentication_error"

    # Nothing of the code, the key or the cookie in the stack's log lines (the outbox lines aside).
    logged = [
        line for line in stack.output[mark:] if "verification code for" not in line and "sign-in link" not in line
    ]
    for secret in (key, session_cookie["value"], printed_code(stack, email, mark)):
        assert not [line for line in logged if secret in line]
