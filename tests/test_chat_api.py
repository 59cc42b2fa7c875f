"""The chat's API and the documents panel through `gradio_client`.

The real app on a free loopback port over a real Chroma index of the seed article, answering
with the real extractive generator.
"""

from __future__ import annotations

import pytest

from tests.servers import chat_client as client
from tests.servers import endpoint_api, openai_down
from tests.servers import serve_chat as serve

pytestmark = [pytest.mark.server, pytest.mark.filterwarnings("ignore:::gradio.queueing")]

SEED = "russia-iss-withdrawal.txt"
ZORBLAX = "The Zorblax reactor opened in Oslo in 1987 after a decade of work by Ingrid Hale.\n"


@pytest.fixture(scope="module")
def app_url(settings):
    demo, url = serve(settings)
    yield url
    demo.close()


@pytest.fixture
def own_app(own_settings):
    demo, url = serve(own_settings)
    yield url, own_settings
    demo.close()


def _parameters(c, endpoint: str) -> list[dict]:
    return endpoint_api(c, endpoint)["parameters"]


def test_remove_document_takes_any_indexed_name_not_a_list_frozen_at_start_up(own_app, tmp_path):
    from gradio_client.exceptions import AppError

    from assistant.stores.corpus import ingest_paths

    url, own = own_app
    c = client(url)
    (source,) = _parameters(c, "/remove_document")
    assert source["parameter_name"] == "source"
    assert source["python_type"]["type"] == "str", source["python_type"]  # no Literal[...]

    # Indexed after the app started (as `assistant ingest` or another page would).
    later = tmp_path / "later"
    later.mkdir()
    (later / "zorblax.md").write_text(ZORBLAX, encoding="utf-8")
    ingest_paths(own, [later], root=later)
    line, listed = c.predict("zorblax.md", api_name="/remove_document")
    assert line.startswith("removed zorblax.md") and [r[0] for r in listed["data"]] == [SEED]

    with pytest.raises(AppError) as info:
        c.predict("nothing-like-it.md", api_name="/remove_document")
    message = str(info.value).strip()
    assert "no indexed document is called 'nothing-like-it.md'" in message
    assert "\n" not in message


# -- sign-in -----------------------------------------------------------------------------------
def _sign_in(url: str, user: str, password: str):
    import httpx

    return httpx.post(f"{url}login", data={"username": user, "password": password}, timeout=30)


def test_failed_sign_ins_are_limited_per_user_and_per_address(own_settings):
    from assistant.chat import launch
    from assistant.chat.signin import ADDRESS_LIMIT, USER_LIMIT
    from tests.servers import free_port

    port = free_port()
    demo = launch(own_settings, port=port, block=False, auth=[("ann", "pw"), ("bob", "pw2")])
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(USER_LIMIT):
            assert _sign_in(url, "ann", "wrong").status_code == 400
        refused = _sign_in(url, "ann", "pw")  # the right password, too late
        assert refused.status_code == 429
        detail = refused.json()["detail"]
        assert detail.startswith("Too many failed sign-ins for this user or from this address")
        assert detail.endswith(" s.") and "try again in" in detail
        assert _sign_in(url, "bob", "pw2").status_code == 200  # another user still may

        for n in range(ADDRESS_LIMIT - USER_LIMIT):  # other names, the same address
            assert _sign_in(url, f"guess{n}", "x").status_code == 400
        assert _sign_in(url, "bob", "pw2").status_code == 429
    finally:
        demo.close()


def test_sign_out_ends_the_session(own_settings):
    import httpx

    from assistant.chat import launch
    from tests.servers import free_port

    port = free_port()
    demo = launch(own_settings, port=port, block=False, auth=[("ann", "pw")])
    url = f"http://127.0.0.1:{port}/"
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            assert http.get("config").status_code == 401
            assert http.post("login", data={"username": "ann", "password": "pw"}).is_success
            assert http.get("config").status_code == 200
            http.get("logout")
            assert http.get("config").status_code == 401
    finally:
        demo.close()


def test_the_start_up_line_names_a_reachable_address_and_says_whether_sign_in_is_on():
    from assistant.chat.signin import startup_line

    line = startup_line("0.0.0.0", 7871, 2)
    assert "http://0.0.0.0" not in line and "sign-in required (2 users)" in line
    assert "http://127.0.0.1:7871/" in line
    assert startup_line("127.0.0.1", 7860, 0, loopback=True) == (
        "chat open on http://127.0.0.1:7860/; no sign-in (only this machine can reach it). "
        "Ctrl+C stops it."
    )
    assert "NO sign-in" in startup_line("192.168.1.5", 7860, 0)


# -- API types; a follow-up keeps the generator ------------------------------------------------
@pytest.fixture
def openai_default_app(settings):
    """The server's default generator is `openai`, pointed at a closed port: an answer that
    falls back to the default fails."""
    demo, url = serve(openai_down(settings).updated(answer={"generator": "openai"}))
    yield url
    demo.close()


def test_the_chat_endpoint_says_what_its_types_are(app_url):
    c = client(app_url)
    endpoint = endpoint_api(c, "/chat")
    types = {p["parameter_name"]: p["python_type"]["type"] for p in endpoint["parameters"]}
    assert types["k"] == "int" and types["message"] == "str"
    assert types["generator"].startswith("Literal['local', 'extractive', 'openai']")
    (returned,) = endpoint["returns"]
    answer_type = returned["python_type"]["type"]
    assert answer_type.startswith("dict(text: str, refused: bool, citations: list[dict(")
    assert "str | float | bool" not in answer_type


def test_a_follow_up_without_a_generator_keeps_the_conversations(openai_default_app):
    c = client(openai_default_app)
    first = c.predict("Who is the new head of Roscosmos?", "extractive", 3, api_name="/chat")
    assert first["generator"] == "extractive" and "Borisov" in first["text"]
    follow = c.predict("Who did he announce the withdrawal to?", api_name="/chat")
    assert follow["generator"] == "extractive" and "Putin" in follow["text"]
    assert "follow-up to: Who is the new head of Roscosmos?" in follow["question"]


def test_a_conversation_kept_on_the_server_needs_sign_in(app_url):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        client(app_url).predict("Who?", "extractive", 4, None, "new", api_name="/chat")
    message = str(info.value).strip()
    assert message == "a conversation kept on the server needs sign-in (assistant chat --auth)"
