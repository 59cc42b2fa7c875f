"""The conversation store (assistant/stores/conversations.py over assistant/stores/db.py), each
test on both databases: a real SQLite file in a temporary data dir, and a fresh database of the
PostgreSQL server the session starts (the `database_url` fixture)."""

from __future__ import annotations

from assistant.stores.conversations import UNTITLED, Conversations, to_markdown


def test_create_rename_delete_and_newest_first(tmp_path, database_url):
    store = Conversations(tmp_path, database_url)
    first = store.create("ann", "Who heads Roscosmos?")
    second = store.create("ann")
    assert second.title == UNTITLED
    assert [s.id for s in store.list("ann")] == [second.id, first.id]

    assert store.rename("ann", first.id, "  Roscosmos\n head ")
    assert store.set_scope("ann", first.id, ["beta.txt"])
    assert [s.title for s in store.list("ann")] == [UNTITLED, "Roscosmos head"]  # same order
    turn = {"q": "Who?", "a": {"text": "Borisov [1].", "citations": []}}
    assert store.set_turns("ann", first.id, [turn])  # a new turn moves it to the top
    assert [s.id for s in store.list("ann")] == [first.id, second.id]
    got = store.get("ann", first.id)
    assert got is not None and got.turns == [turn] and got.scope == ["beta.txt"]

    assert store.delete("ann", second.id)
    assert store.get("ann", second.id) is None
    assert [s.id for s in store.list("ann")] == [first.id]
    assert not store.delete("ann", second.id)


def test_one_owner_never_reaches_another_owners_conversations(tmp_path, database_url):
    store = Conversations(tmp_path, database_url)
    ann = store.create("user:ann", "ann's")
    bob = store.create("user:bob", "bob's")
    assert [s.id for s in store.list("user:ann")] == [ann.id]
    assert [s.id for s in store.list("user:bob")] == [bob.id]
    assert store.get("user:bob", ann.id) is None
    assert not store.rename("user:bob", ann.id, "taken")
    assert not store.set_turns("user:bob", ann.id, [])
    assert not store.set_scope("user:bob", ann.id, ["x"])
    assert not store.delete("user:bob", ann.id)
    kept = store.get("user:ann", ann.id)
    assert kept is not None and kept.title == "ann's"


def test_markdown_export_has_questions_answers_with_markers_and_sources(tmp_path, database_url):
    store = Conversations(tmp_path, database_url)
    citation = {
        "number": 1, "source": "report.pdf", "start": 10, "end": 90, "page": 4,
        "quote": "Yuri Borisov is the new head.", "text": "...", "score": 0.9,
    }  # fmt: skip
    turns = [
        {"q": "Who is the new head?", "a": {"text": "Yuri Borisov [1].", "citations": [citation]}},
        {"q": "And then?", "stopped": "He said"},
    ]
    conv = store.create("ann", "Heads", scope=["report.pdf"], turns=turns)
    text = to_markdown(conv)
    assert text.startswith("# Heads\n")
    assert "Searched only: report.pdf" in text
    assert "## Who is the new head?\n\nYuri Borisov [1].\n" in text
    assert "[1] report.pdf p. 4 (characters 10-90)" in text
    assert "> Yuri Borisov is the new head." in text
    assert "## And then?\n\nHe said (stopped)" in text


def test_a_conversation_kept_only_in_the_browser_moves_to_the_server_once(
    settings, tmp_path, database_url
):
    """The browser's single saved conversation of before becomes its first server-kept one
    (without sign-in only: a shared browser's storage is never given to a signed-in user)."""
    from types import SimpleNamespace

    from assistant.chat.sidebar import Sidebar

    own = settings.updated(index={"data_dir": tmp_path / "data", "database_url": database_url})
    side = Sidebar(own)
    answer = {"text": "Borisov [1].", "refused": False, "citations": []}
    old = {"turns": [{"q": "Who?", "a": answer}], "k": 5}
    anonymous = SimpleNamespace(username=None, session_hash="s1")
    browser, owner, chat, _, cache, *_ = side.load("", old, anonymous)
    assert owner == f"browser:{browser}" and len(browser) > 10
    assert len(chat) == 2 and cache["conversation"]
    (kept,) = Conversations(own.index.data_dir, database_url).list(owner)
    assert kept.title == "Who?" and kept.id == cache["conversation"]
    side.load(browser, cache, anonymous)  # the next load reads the server's copy
    assert len(Conversations(own.index.data_dir, database_url).list(owner)) == 1

    signed = SimpleNamespace(username="ann", session_hash="s2")
    _, owner, chat, _, cache, *_ = side.load(browser, old, signed)
    assert owner == "user:ann" and chat == [] and cache["conversation"] is None
    assert Conversations(own.index.data_dir, database_url).list("user:ann") == []


def test_the_chats_threads_share_one_store(tmp_path, database_url):
    """The chat's worker threads use one store at once: every write lands, none fails."""
    from concurrent.futures import ThreadPoolExecutor

    store = Conversations(tmp_path, database_url)

    def work(n: int) -> int:
        conv = store.create(f"user:{n % 4}", f"question {n}")
        store.set_turns(conv.owner, conv.id, [{"q": f"question {n}"}])
        return len(store.list(conv.owner))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(80)))
    assert sum(len(store.list(f"user:{n}")) for n in range(4)) == 80
