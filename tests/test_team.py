"""Two app processes, one deployment (README, "Serving a team"): a `chroma run` server,
PostgreSQL, llama.cpp's OpenAI-compatible server over the bundled model and two `assistant
chat` processes, each with a data dir of its own, started once for the module by
`eval.deploy.team.Deployment`. A conversation started on one app continues on the other, an upload
through one is answered from through the other, and its owner's privacy holds on both;
through `gradio_client` and in a real Chromium.
"""

from __future__ import annotations

import pytest

from tests.pages import BROWSER_MARKS, ask, sign_in
from tests.privacy import DOC, QUESTION, cites, fails, sees, sees_nothing, upload
from tests.privacy import ask as ask_api

pytestmark = [
    pytest.mark.slow,
    pytest.mark.server,
    pytest.mark.filterwarnings("ignore:::gradio.queueing"),
]

USERS = {"ann": "pw-ann", "bob": "pw-bob"}
HEAD = "Who is the new head of Roscosmos?"
FOLLOW = "Who did he announce the withdrawal to?"
LAUNCH = "When was the first element of the ISS launched?"


@pytest.fixture(scope="module")
def team(tmp_path_factory, postgres, llama_server):
    """The deployment over the session's PostgreSQL server and model server."""
    from eval.deploy.team import Deployment

    work = tmp_path_factory.mktemp("team")
    users = list(USERS.items())
    deployment = Deployment(
        work, users, database_url=postgres.new_database(), model_url=llama_server
    )
    with deployment:
        yield deployment


@pytest.fixture(scope="module")
def clients(team):
    """A signed-in client per user and app: clients["ann", 1] is ann on the first app."""
    from gradio_client import Client

    return {
        (user, n): Client(url, auth=(user, password), verbose=False)
        for user, password in USERS.items()
        for n, url in enumerate(team.urls, start=1)
    }


def test_a_conversation_started_on_one_app_continues_on_the_other(team, clients, tmp_path):
    from assistant.stores.conversations import Conversations

    first = clients["ann", 1].predict(HEAD, "extractive", 4, None, "new", api_name="/chat")
    assert "Borisov" in first["text"]
    kept = first["conversation"]
    follow = clients["ann", 2].predict(FOLLOW, "extractive", 4, None, kept, api_name="/chat")
    assert "Putin" in follow["text"] and follow["conversation"] == kept
    assert f"follow-up to: {HEAD}" in follow["question"]  # the history came from the database

    stored = Conversations(tmp_path, team.database_url).get("user:ann", kept)
    assert stored is not None and [turn["q"] for turn in stored.turns] == [HEAD, FOLLOW]
    for n in (1, 2):  # bob can neither continue nor find it
        line = fails(clients["bob", n], FOLLOW, "extractive", 4, None, kept, api_name="/chat")
        assert f"no conversation '{kept}' of yours" in line


def test_the_model_server_answers_both_apps_at_once(team):
    """Four answers streamed from the one model server at once, two through each app: each is
    whole (the server queues a request instead of cutting short the answer it is writing)."""
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    bobs = [Client(url, auth=("bob", USERS["bob"]), verbose=False) for url in team.urls * 2]
    with ThreadPoolExecutor(len(bobs)) as pool:
        asked = [pool.submit(c.predict, HEAD, "openai", 4, api_name="/chat") for c in bobs]
        answers = [future.result() for future in asked]
    for answer in answers:
        assert answer["generator"] == "openai" and "Borisov" in answer["text"], answer["text"]


def test_an_upload_through_one_app_is_answered_through_the_other_and_stays_private(
    clients, tmp_path
):
    ann1, ann2, bob1, bob2 = (clients[u, n] for u in USERS for n in (1, 2))
    summary, listed = upload(ann1, tmp_path)
    assert summary.startswith("documents: 1 added") and [DOC, 1, "only you"] in listed["data"]
    assert cites(ask_api(ann2))
    sees_nothing(bob1, tmp_path)
    sees_nothing(bob2, tmp_path)

    assert ann2.predict(DOC, True, api_name="/share_document")[0] == f"shared {DOC} with everyone"
    assert cites(ask_api(bob1)) and cites(ask_api(bob2))
    assert "only the owner" in fails(bob1, DOC, api_name="/remove_document")

    ann1.predict(DOC, False, api_name="/share_document")
    assert not sees(ask_api(bob2, QUESTION))
    line, _ = ann2.predict(DOC, api_name="/remove_document")
    assert line.startswith(f"removed {DOC}") and not sees(ask_api(ann1))


def _in_chromium(test):
    """The browser tests' marks (tests/pages.py) on one test of this module."""
    for mark in BROWSER_MARKS:
        test = mark(test)
    return test


@_in_chromium
def test_a_conversation_started_in_a_browser_on_one_app_shows_on_the_other(browser, team):
    """ann asks on app 1; on app 2 (another browser, as behind a load balancer that sent her
    elsewhere) her sidebar lists it, opens it, and her next question is added to it."""
    from assistant.stores.conversations import Conversations

    contexts = [browser.new_context(), browser.new_context()]
    first, second = (context.new_page() for context in contexts)
    for page in (first, second):
        page.set_default_timeout(120_000)  # an answer may wait behind others at the model
    try:
        sign_in(first, team.urls[0], "ann", USERS["ann"])
        ask(first, LAUNCH)
        sign_in(second, team.urls[1], "ann", USERS["ann"])
        listed = second.locator("#ca-conversations label").filter(has_text=LAUNCH)
        listed.first.click()
        second.locator("#ca-chat [data-testid=user]").filter(has_text=LAUNCH).wait_for()
        ask(second, "When will Russia leave the ISS?")
    finally:
        for context in contexts:
            context.close()
    store = Conversations(team.work, team.database_url)
    (kept,) = [s for s in store.list("user:ann") if s.title == LAUNCH]
    turns = store.get("user:ann", kept.id).turns  # type: ignore[union-attr]
    assert [t["q"] for t in turns] == [LAUNCH, "When will Russia leave the ISS?"]
