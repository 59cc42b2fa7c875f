"""The `chat` endpoint's optional `sources` (issue 21): gradio_client against the real app
over the seed index plus one more document, answering with the real extractive generator."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.servers import chat_client as client
from tests.servers import endpoint_api, seeded_copy
from tests.servers import serve_chat as serve

pytestmark = [pytest.mark.server, pytest.mark.filterwarnings("ignore:::gradio.queueing")]

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED = "russia-iss-withdrawal.txt"
ZORBLAX = "The Zorblax reactor opened in Oslo in 1987 after a decade of work by Ingrid Hale.\n"


@pytest.fixture(scope="module")
def app(open_settings, tmp_path_factory):
    from assistant.stores.corpus import ingest_paths

    data = tmp_path_factory.mktemp("scope-api")
    own = seeded_copy(open_settings, data / "data", SEEDS)
    extra = data / "extra"
    extra.mkdir()
    (extra / "zorblax.md").write_text(ZORBLAX, encoding="utf-8")
    ingest_paths(own, [extra], root=extra)
    demo, url = serve(own)
    yield url
    demo.close()


def test_sources_limit_what_the_chat_endpoint_searches(app):
    c = client(app)
    params = endpoint_api(c, "/chat")
    assert [p["parameter_name"] for p in params["parameters"]] == [
        "message", "generator", "k", "sources", "conversation",
    ]  # fmt: skip
    question = "When did the Zorblax reactor open?"
    unscoped = c.predict(question, "extractive", 4, api_name="/chat")
    assert "zorblax.md" in {x["source"] for x in unscoped["citations"]}
    scoped = client(app).predict(question, "extractive", 4, [SEED], api_name="/chat")
    assert {x["source"] for x in scoped["citations"]} <= {SEED}
    only = client(app).predict(question, "extractive", 4, ["zorblax.md"], api_name="/chat")
    assert {x["source"] for x in only["citations"]} == {"zorblax.md"}
    # the pinned call, without sources, is unchanged
    plain = client(app).predict("Who is the new head of Roscosmos?", api_name="/chat")
    assert plain["text"] and not plain["refused"]


def test_an_unknown_source_name_is_one_line(app):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        client(app).predict("Who?", "extractive", 4, ["nothing-like-it.md"], api_name="/chat")
    message = str(info.value).strip()
    assert "nothing-like-it.md" in message and "\n" not in message
