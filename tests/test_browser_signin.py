"""Sign-in in a real headless Chromium: too many failed attempts get a
line that says so (in place of "Incorrect Credentials"), and a signed-in user can sign out."""

from __future__ import annotations

import pytest

from tests.pages import BROWSER_MARKS
from tests.servers import free_port

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def signed_app(settings):
    from assistant.chat import launch

    port = free_port()
    demo = launch(settings, port=port, block=False, auth=[("ann", "pw"), ("bob", "pw2")])
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def _try(page, user: str, password: str) -> None:
    page.locator("input[type=password]").wait_for()
    page.locator("input:not([type=password])").first.fill(user)
    page.locator("input[type=password]").fill(password)
    page.get_by_role("button", name="Login").click()


def _messages(page) -> list[str]:
    """The sign-in problems the page shows: Gradio's line and ours, those visible."""
    lines = page.locator("p.creds, #ca-signin-problem")
    return [m.inner_text().strip() for m in lines.all() if m.is_visible()]


def _tried(page, user: str, password: str) -> None:
    with page.expect_response(lambda r: r.url.endswith("/login")):
        _try(page, user, password)
    page.wait_for_timeout(300)  # the page draws its answer


def test_too_many_failed_sign_ins_say_so_and_sign_out_signs_out(page, signed_app):
    from assistant.chat.signin import USER_LIMIT

    page.goto(signed_app)
    for _ in range(USER_LIMIT):
        _tried(page, "ann", "wrong")
    assert _messages(page) == ["Incorrect Credentials"]
    _tried(page, "ann", "pw")
    problem = page.locator("#ca-signin-problem")
    problem.wait_for()
    assert problem.inner_text().startswith("Too many failed sign-ins for this user")
    # The lockout's line replaces the stale "Incorrect Credentials": one message.
    assert _messages(page) == [problem.inner_text().strip()]
    assert page.locator("#ca-question").count() == 0  # not signed in

    _tried(page, "bob", "wrong")  # a plain wrong password: Gradio's line again, alone
    assert _messages(page) == ["Incorrect Credentials"]
    _try(page, "bob", "pw2")
    sign_out = page.locator("#ca-signout")
    sign_out.wait_for()
    assert sign_out.inner_text().strip() == "Sign out"
    page.locator("#ca-question textarea").wait_for()
    sign_out.click()
    page.locator("input[type=password]").wait_for()
    page.goto(signed_app)  # the session is gone: the sign-in page again
    page.locator("input[type=password]").wait_for()
    assert page.locator("#ca-question").count() == 0
