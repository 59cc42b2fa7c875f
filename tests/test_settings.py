"""Every default once: the settings object, the README's table of it, and a clean import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
