"""Exceptions raised by stores."""

from __future__ import annotations

__all__ = ["DocumentExists", "RevisionConflict", "StoreError", "StoreUnavailable"]


class StoreError(Exception):
    """Base class of store failures."""


class DocumentExists(StoreError):
    """A document with this id is already stored."""


class RevisionConflict(StoreError):
    """A revision being appended is already in the log: another writer committed first."""

    def __init__(self, doc_id: str, revision: int) -> None:
        super().__init__(f"revision {revision} of document {doc_id!r} is already stored")
        self.doc_id = doc_id
        self.revision = revision


class StoreUnavailable(StoreError):
    """The store could not complete a request; it may succeed if retried later."""
