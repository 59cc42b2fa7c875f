"""Offline by construction: nothing reaches the network at run time."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

import pytest


def test_the_suite_cannot_reach_beyond_loopback():
    # conftest.NetworkBlocked, matched by message: pytest loads conftest under its own name.
    with socket.socket() as s, pytest.raises(RuntimeError, match="outside this machine"):
        s.connect(("192.0.2.1", 80))  # TEST-NET-1: never routed


def _unshare_available() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _unshare_available(), reason="needs root and unshare -n")
def test_answer_with_no_network_at_all(seeded_data_dir):
    """`unshare -n` gives the process no network device but a down loopback."""
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(seeded_data_dir)}
    proc = subprocess.run(
        [
            "unshare",
            "-n",
            sys.executable,
            "-m",
            "assistant",
            "ask",
            "Who is the new head of Roscosmos?",
            "--generator",
            "extractive",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0 and "Borisov" in proc.stdout, proc.stderr[-500:]
