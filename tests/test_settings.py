"""Every default once: the settings object, the README's table of it, and a clean import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_settings_table_is_the_settings_object():
    from assistant.settings import settings_table

    assert settings_table() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_importing_the_package_loads_no_model_library_and_goes_offline_first():
    probe = (
        "import os, sys; import assistant; "
        "heavy = [m for m in ('torch', 'chromadb', 'sentence_transformers', 'llama_cpp', "
        "'gradio', 'langchain_core', 'onnxruntime') if m in sys.modules]; "
        "print(heavy, os.environ.get('HF_HUB_OFFLINE'))"
    )
    env = {"PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert out.stdout.strip() == "[] 1", out.stderr[-500:]


def test_a_lazily_exported_function_is_not_hidden_by_its_module():
    probe = (
        "from index import IngestReport; from index import ingest; "
        "print(callable(ingest) and not hasattr(ingest, '__path__') and ingest.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "index.ingest", out.stderr[-500:]


def test_k_has_one_range_for_settings_answer_and_the_chat():
    from pydantic import ValidationError

    from assistant.chat.answering import clamp_k
    from assistant.errors import BadInput
    from assistant.question.checks import check_k
    from assistant.settings import K_MAX, K_MIN

    assert (K_MIN, K_MAX) == (1, 20)
    assert Settings().retrieval.k == 4 and check_k(K_MAX) == K_MAX
    for bad in (K_MIN - 1, K_MAX + 1):
        with pytest.raises(ValidationError):
            Settings(retrieval={"k": bad})
        with pytest.raises(BadInput, match="k must be between 1 and 20"):
            check_k(bad)
    assert clamp_k(50) == (20, "k 50 is outside 1-20; used 20")  # the chat clamps, with a note
    assert clamp_k("x") == (4, "k 'x' is not a number; used 4")


def test_a_chunk_overlap_not_below_the_chunk_size_is_one_line_of_bad_input(capsys):
    from assistant.cli import main

    with pytest.raises(ValueError, match="the chunk overlap must be smaller than the chunk size"):
        Settings(index={"chunk_size": 32, "chunk_overlap": 32})
    assert main(["ingest", "--chunk-size", "16", "--chunk-overlap", "16", "nowhere"]) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith("the chunk overlap must be smaller than the chunk size")
    )


# Every variable the settings read, by the name users set: grouping the settings in code moved
# none of them.
VARIABLES = [
    "ADMINS",
    "DATA_DIR",
    "CORPUS_DIR",
    "CHROMA_URL",
    "DATABASE_URL",
    "COLLECTION",
    "CHUNK_SIZE",
    "CHUNK_OVERLAP",
    "K",
    "RETRIEVAL_CANDIDATES",
    "RRF_K",
    "RERANK_POOL",
    "TRACE_DEPTH",
    "WHOLE_CORPUS_TOKENS",
    "GENERATOR",
    "EXCERPT_TOKENS",
    "SHOWN_SENTENCES",
    "WHOLE_CHUNKS",
    "WHOLE_SECTION",
    "EXCERPT_NEIGHBOURS",
    "QUOTE_SOURCES",
    "SUPPORT_THRESHOLD",
    "SECOND_SENTENCE_MARGIN",
    "ANSWER_THRESHOLD",
    "CALIBRATOR",
    "SKIP_CHECKS",
    "MAX_QUESTION_CHARS",
    "THREADS",
    "LOCAL_CONTEXT",
    "LOCAL_MAX_TOKENS",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
    "OPENAI_API_KEY",
    "OPENAI_TIMEOUT",
    "AUTH",
    "CHAT_CONCURRENCY",
    "SAVED_TURNS",
    "MAX_UPLOAD_FILE_MB",
    "MAX_UPLOAD_MB",
    "MAX_UPLOAD_FILES",
]


def test_the_grouped_settings_read_the_same_variables():
    from assistant.settings import setting_fields

    names = [f"ASSISTANT_{name.upper()}" for _, name, _ in setting_fields()]
    assert sorted(names) == sorted(f"ASSISTANT_{v}" for v in VARIABLES)
    groups = [group for group, _, _ in setting_fields()]
    concerns = ["index", "retrieval", "answer", "local", "openai", "chat", "uploads"]
    assert list(dict.fromkeys(groups)) == concerns


def test_a_variable_reaches_its_group_also_when_code_sets_other_fields(monkeypatch, tmp_path):
    monkeypatch.setenv("ASSISTANT_K", "7")
    monkeypatch.setenv("ASSISTANT_THREADS", "3")
    monkeypatch.setenv("ASSISTANT_COLLECTION", "mine")
    s = Settings()
    assert (s.retrieval.k, s.local.threads, s.index.collection) == (7, 3, "mine")
    given = Settings(index={"data_dir": tmp_path}, local={"local_max_tokens": 48})
    assert (given.index.data_dir, given.index.collection) == (tmp_path, "mine")
    assert (given.local.local_max_tokens, given.local.threads, given.retrieval.k) == (48, 3, 7)
    copy = given.updated(retrieval={"rerank_pool": 0})
    assert (copy.retrieval.rerank_pool, copy.retrieval.k, copy.index.data_dir) == (0, 7, tmp_path)
    assert copy.model_dump_json() != given.model_dump_json()  # get_pipeline's cache key
    assert given.updated().model_dump_json() == given.model_dump_json()


def test_a_misplaced_or_misspelt_setting_is_an_error_not_ignored():
    from pydantic import ValidationError

    for wrong in ({"k": 5}, {"index": {"k": 5}}, {"retrieval": {"kk": 5}}):
        with pytest.raises(ValidationError):
            Settings(**wrong)
    with pytest.raises(ValidationError):
        Settings().updated(answer={"k": 5})
    with pytest.raises(ValidationError):
        Settings().updated(retrieval={"k": 0})  # validated, as construction is
    with pytest.raises(ValidationError, match="the chunk overlap must be smaller"):
        Settings().updated(index={"chunk_overlap": 128})


def test_a_bad_variable_or_option_is_one_line_naming_the_variable(monkeypatch, capsys):
    from assistant.cli import main

    expected = "error: setting k (ASSISTANT_K): Input should be less than or equal to 20"
    monkeypatch.setenv("ASSISTANT_K", "99")
    assert main(["ask", "Who?"]) == 2  # from the environment, read by the group's default
    assert capsys.readouterr().err.strip() == expected
    monkeypatch.delenv("ASSISTANT_K")
    assert main(["ask", "Who?", "--k", "99"]) == 2  # from an option, given to the group
    assert capsys.readouterr().err.strip() == expected
    monkeypatch.setenv("ASSISTANT_CHUNK_OVERLAP", "200")
    assert main(["ingest", "nowhere"]) == 2
    assert capsys.readouterr().err.strip().endswith("must be smaller than the chunk size")
