"""The document-owner store (assistant/stores/owners.py), on both databases: a real SQLite file in a
temporary data dir, and a fresh database of the session's PostgreSQL server."""

from __future__ import annotations

from assistant.stores.owners import DocumentOwners, Owner


def test_an_upload_is_claimed_private_shared_by_its_owner_and_forgotten(tmp_path, database_url):
    owners = DocumentOwners(tmp_path, database_url)
    owners.claim("uploads/a.md", "user:ann")
    assert owners.all() == {"uploads/a.md": Owner("uploads/a.md", "user:ann", False)}
    assert owners.set_shared("uploads/a.md", True)
    owners.claim("uploads/a.md", "user:ann")  # uploaded again by its owner: still shared
    assert owners.all()["uploads/a.md"].shared
    owners.claim("uploads/a.md", "user:bob")  # another owner's copy starts private
    assert owners.all()["uploads/a.md"] == Owner("uploads/a.md", "user:bob", False)
    assert not owners.set_shared("uploads/none.md", True)
    owners.forget("uploads/a.md")
    assert owners.all() == {}
