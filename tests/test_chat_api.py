"""The chat's API and the documents panel through `gradio_client` (issue 20).

The real app on a free loopback port over a real Chroma index of the seed article, answering
with the real extractive generator.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.servers import chat_client as client
from tests.servers import serve_chat as serve

pytestmark = [pytest.mark.server, pytest.mark.filterwarnings("ignore:::gradio.queueing")]

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED = "russia-iss-withdrawal.txt"
ZORBLAX = "The Zorblax reactor opened in Oslo in 1987 after a decade of work by Ingrid Hale.\n"


@pytest.fixture
def own_settings(settings, embedder, tmp_path):
    """A data dir of its own holding the seed article (uploads change it)."""
    from assistant.corpus import ingest_paths

    own = settings.model_copy(update={"data_dir": tmp_path / "data"})
    ingest_paths(own, [SEEDS])
    return own


@pytest.fixture
def own_app(own_settings):
    demo, url = serve(own_settings)
    yield url, own_settings
    demo.close()


def _parameters(c, endpoint: str) -> list[dict]:
    return c.view_api(print_info=False, return_format="dict")["named_endpoints"][endpoint][
        "parameters"
    ]


def test_remove_document_takes_any_indexed_name_not_a_list_frozen_at_start_up(own_app, tmp_path):
    from gradio_client.exceptions import AppError

    from assistant.corpus import ingest_paths

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
