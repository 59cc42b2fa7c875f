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
    from assistant.checks import check_k
    from assistant.errors import BadInput
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
