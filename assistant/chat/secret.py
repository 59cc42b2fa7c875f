"""The secret that signs what the browser keeps of a conversation, kept in the data dir so a
saved conversation outlives a server restart."""

from __future__ import annotations

import secrets
from pathlib import Path

from assistant.settings import Settings


def storage_secret(settings: Settings) -> str | None:
    """A secret kept in the data dir, so saved conversations outlive a server restart."""
    path = Path(settings.index.data_dir) / "chat-secret"
    try:
        if path.is_file():
            return path.read_text().strip() or None
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(24)
        path.write_text(secret)
        path.chmod(0o600)
        return secret
    except OSError:
        return None  # Gradio makes one per process
