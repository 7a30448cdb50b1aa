"""The state of one open document, with no sockets and no storage: messages in, messages out.

The document server drives a `DocumentSession` in three steps for every batch of edits:

    prepare(edits) -> PreparedBatch      transform each edit to the current revision and apply it
    (the caller appends batch.records to the store and waits until they are durable)
    commit(batch)  -> [Outgoing]         acknowledgements to authors, updates to everyone else

or `abort(batch, error)` when the store failed, which leaves the session as it was. Nothing an
editor receives changes until `commit`, so an edit is never acknowledged or broadcast before it is
durable.

An edit made on revision r is transformed against every operation committed after r:

        base (r)
        /      \\
   committed    edit
      \\        /
       \\      /  edit' = transform(committed, edit)[1]
        tip (r+n)

Cursors are kept at the current revision and moved through every committed operation.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import ot

from .errors import ClientError, DocServerError, ResyncRequired
from .protocol import CursorUpdate, Edit, Join
from .store import OpRecord

__all__ = [
    "Broadcast",
    "DocumentSession",
    "Editor",
    "Outgoing",
    "PreparedBatch",
    "Send",
]

# Colours for editors that don't choose one: ten distinct hues readable on white.
PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
)


# Parts walked to transform one edit (its own parts once per newer operation, plus the parts of
# those operations): about a second of CPU.
MAX_TRANSFORM_WORK = 1_000_000


def _estimated_size(records: Iterable[OpRecord]) -> int:
    """Estimate the encoded size of operations in bytes."""
    return sum(
        sum(len(part) if isinstance(part, str) else 4 for part in record.op) + 48
        for record in records
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Send:
    """A message for one editor."""

    to: str
    message: dict[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class Broadcast:
    """A message for every editor of the document except `exclude`."""

    message: dict[str, Any]
    exclude: str | None = None


Outgoing = Send | Broadcast


@dataclasses.dataclass(slots=True)
class Editor:
    """A client connected to the document, with its cursor at the session's revision."""

    client_id: str
    name: str
    color: str
    selection: ot.Selection | None = None

    def describe(self) -> dict[str, Any]:
        selection = self.selection
        return {
            "client": self.client_id,
            "name": self.name,
            "color": self.color,
            "cursor": None
            if selection is None
            else {"anchor": selection.anchor, "head": selection.head},
        }


@dataclasses.dataclass(slots=True)
class PreparedBatch:
    """Edits transformed and applied to a copy of the content, waiting to be stored."""

    base_revision: int
    content: str
    records: list[OpRecord] = dataclasses.field(default_factory=list)
    # Resubmissions of edits that are in `records`: (client, edit id, revision) acked on commit.
    duplicates: list[tuple[str, str, int]] = dataclasses.field(default_factory=list)
    # Errors and acknowledgements of earlier commits, sent whether or not the batch commits.
    replies: list[Outgoing] = dataclasses.field(default_factory=list)


def default_color(client_id: str) -> str:
    digest = hashlib.blake2s(client_id.encode(), digest_size=2).digest()
    return PALETTE[int.from_bytes(digest, "big") % len(PALETTE)]


def error_message(error: DocServerError, edit_id: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "error", "code": error.code, "message": error.message}
    if edit_id is not None:
        message["id"] = edit_id
    return message


class DocumentSession:
    """One document's content, revision, recent history and editors."""

    def __init__(
        self,
        doc_id: str,
        *,
        version: int,
        revision: int,
        content: str,
        history: Sequence[OpRecord] = (),
        history_limit: int = 2000,
        history_bytes: int = 16 << 20,
        max_length: int = 1_000_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if history and history[-1].revision != revision:
            raise ValueError(
                f"history ends at revision {history[-1].revision}, not at revision {revision}"
            )
        self.doc_id = doc_id
        self.version = version
        self.revision = revision
        self.content = content
        self.editors: dict[str, Editor] = {}
        self.history_limit = max(1, history_limit)
        self.max_length = max_length
        self._clock = clock
        self.history_bytes = history_bytes
        self._history: list[OpRecord] = list(history[-self.history_limit :])
        self._history_bytes = _estimated_size(self._history)
        self._committed: dict[tuple[str, str], int] = {
            (record.client_id, record.edit_id): record.revision for record in self._history
        }

    # -- history -----------------------------------------------------------------------------

    @property
    def oldest_revision(self) -> int:
        """The oldest revision that an edit can be based on."""
        if self._history:
            return self._history[0].revision - 1
        return self.revision

    def history_after(self, revision: int) -> list[OpRecord]:
        """Return the kept operations after `revision`; raise `ResyncRequired` if not kept."""
        if revision > self.revision:
            raise ResyncRequired(
                f"revision {revision} is ahead of the document's revision {self.revision}"
            )
        if revision < self.oldest_revision:
            raise ResyncRequired(
                f"revision {revision} is older than the oldest kept revision"
                f" {self.oldest_revision}"
            )
        if revision == self.revision:
            return []
        return self._history[revision - self.oldest_revision :]

    def _remember(self, record: OpRecord) -> None:
        self._history.append(record)
        self._history_bytes += _estimated_size((record,))
        self._committed[(record.client_id, record.edit_id)] = record.revision

        # Trim in chunks so that appends stay amortised O(1).
        excess = len(self._history) - self.history_limit
        if excess >= max(1, self.history_limit // 4):
            self._forget(excess)
        elif self._history_bytes > self.history_bytes:
            # A few huge operations: keep about three quarters of the byte budget.
            excess, dropped = 0, 0
            while self._history_bytes - dropped > self.history_bytes * 3 // 4 and excess < len(self._history) - 1:
                dropped += _estimated_size((self._history[excess],))
                excess += 1
            self._forget(excess)

    def _forget(self, count: int) -> None:
        """Drop the oldest `count` operations from the kept history."""
        for old in self._history[:count]:
            self._history_bytes -= _estimated_size((old,))
            key = (old.client_id, old.edit_id)
            if self._committed.get(key) == old.revision:
                del self._committed[key]
        del self._history[:count]

    # -- editors -----------------------------------------------------------------------------

    def join(self, join: Join) -> list[Outgoing]:
        """Add an editor; send it the content or the operations it missed, and announce it."""
        editor = Editor(
            client_id=join.client_id,
            name=join.name or join.client_id,
            color=join.color or default_color(join.client_id),
        )
        self.editors[join.client_id] = editor

        init: dict[str, Any] = {
            "type": "init",
            "doc": self.doc_id,
            "rev": self.revision,
            "client": editor.client_id,
            "editors": [e.describe() for e in self.editors.values() if e is not editor],
        }
        missed: list[OpRecord] | None = None
        if join.revision is not None:
            try:
                missed = self.history_after(join.revision)
            except ResyncRequired:
                missed = None
        # Operations that outweigh the content itself are not worth sending.
        if missed and _estimated_size(missed) > max(2 * len(self.content), 1 << 20):
            missed = None
        if missed is None:
            init["content"] = self.content
        else:
            init["ops"] = [
                {"rev": r.revision, "op": r.op, "client": r.client_id, "id": r.edit_id}
                for r in missed
            ]

        # Announce a rejoin too: the name or colour may have changed, and the cursor is reset.
        announce = editor.describe()
        announce["type"] = "joined"
        outgoing: list[Outgoing] = [Send(editor.client_id, init)]
        outgoing.append(Broadcast(announce, exclude=editor.client_id))
        return outgoing

    def leave(self, client_id: str) -> list[Outgoing]:
        """Remove an editor and announce it; its cursor goes with it."""
        if self.editors.pop(client_id, None) is None:
            return []
        return [Broadcast({"type": "left", "client": client_id}, exclude=client_id)]

    def update_cursor(self, client_id: str, update: CursorUpdate) -> list[Outgoing]:
        """Move an editor's cursor, given on `update.revision`, and broadcast it."""
        editor = self.editors[client_id]
        length = self._length_at(update.revision, [])
        if update.anchor > length or update.head > length:
            raise ClientError(
                f"cursor {update.anchor}..{update.head} is past the end of revision"
                f" {update.revision}, which has {length} characters",
                code="invalid-cursor",
            )
        selection = ot.Selection(update.anchor, update.head)
        for record in self.history_after(update.revision):
            bias = ot.Bias.AFTER if record.client_id == client_id else ot.Bias.BEFORE
            selection = ot.transform_selection(selection, record.op, bias)
        editor.selection = selection
        return [
            Broadcast(
                {
                    "type": "cursor",
                    "client": client_id,
                    "rev": self.revision,
                    "anchor": selection.anchor,
                    "head": selection.head,
                },
                exclude=client_id,
            )
        ]

    # -- edits -------------------------------------------------------------------------------

    def _length_at(self, revision: int, pending: list[OpRecord]) -> int:
        """Return the document length at `revision`, which may be in `pending`."""
        tip = self.revision + len(pending)
        if revision == tip:
            return self._tip_length(pending)
        if revision > tip:
            raise ResyncRequired(
                f"revision {revision} is ahead of the document's revision {self.revision}"
            )
        if revision >= self.revision:
            return ot.base_length(pending[revision - self.revision].op)
        following = self.history_after(revision)
        return ot.base_length(following[0].op)

    def _tip_length(self, pending: list[OpRecord]) -> int:
        if pending:
            return ot.target_length(pending[-1].op)
        return len(self.content)

    def prepare(self, edits: Sequence[tuple[str, Edit]]) -> PreparedBatch:
        """Transform and apply a batch of edits, in order, to a copy of the content.

        Invalid edits get an error reply and are left out. Resubmitted edits that are already
        committed get their original acknowledgement again and are never applied twice.
        """
        batch = PreparedBatch(base_revision=self.revision, content=self.content)
        in_batch: dict[tuple[str, str], int] = {}

        for client_id, edit in edits:
            key = (client_id, edit.edit_id)

            committed = self._committed.get(key)
            if committed is not None:
                batch.replies.append(Send(client_id, self._ack(edit.edit_id, committed)))
                continue
            if key in in_batch:
                batch.duplicates.append((client_id, edit.edit_id, in_batch[key]))
                continue

            try:
                record = self._prepare_one(client_id, edit, batch)
            except DocServerError as error:
                batch.replies.append(Send(client_id, error_message(error, edit.edit_id)))
                continue

            batch.records.append(record)
            in_batch[key] = record.revision
        return batch

    def _prepare_one(self, client_id: str, edit: Edit, batch: PreparedBatch) -> OpRecord:
        pending = batch.records
        tip = self.revision + len(pending)

        # The operations committed after the edit's base revision, oldest first.
        if edit.base_revision > tip:
            raise ResyncRequired(
                f"base revision {edit.base_revision} is ahead of the document's revision {tip}"
            )
        if edit.base_revision >= self.revision:
            concurrent = pending[edit.base_revision - self.revision :]
        else:
            concurrent = self.history_after(edit.base_revision) + pending

        length = self._length_at(edit.base_revision, pending)
        try:
            op = edit.to_operation(length)
        except ot.InvalidOperation as exc:
            raise ClientError(
                f"edit does not fit revision {edit.base_revision}: {exc}",
                code="invalid-operation",
            ) from exc
        if ot.base_length(op) != length:
            raise ClientError(
                f"operation spans {ot.base_length(op)} characters but revision"
                f" {edit.base_revision} has {length}",
                code="invalid-operation",
            )

        # Each transform walks both operations, so a long edit far behind the tip would hold
        # the event loop, and every document, for seconds.
        work = len(op) * len(concurrent) + sum(len(record.op) for record in concurrent)
        if work > MAX_TRANSFORM_WORK:
            raise ResyncRequired(
                f"an edit of {len(op)} parts on revision {edit.base_revision} is too far behind"
                f" ({len(concurrent)} newer operations) to transform; rebase it on revision {tip}"
            )
        for record in concurrent:
            op = ot.transform(record.op, op)[1]

        # After the transforms, base_length(op) is the current length. The length at the edit's
        # base revision would be wrong, because the document may have shrunk since then. An
        # edit that doesn't grow an oversized document is allowed.
        new_length = ot.target_length(op)
        if new_length > self.max_length and new_length > ot.base_length(op):
            raise ClientError(
                f"edit would make the document {new_length} characters long;"
                f" the limit is {self.max_length}",
                code="document-too-large",
            )

        batch.content = ot.apply(batch.content, op)
        return OpRecord(
            revision=tip + 1,
            op=op,
            client_id=client_id,
            edit_id=edit.edit_id,
            committed_at=self._clock(),
        )

    def commit(self, batch: PreparedBatch) -> list[Outgoing]:
        """Make a stored batch current: acknowledge each edit and broadcast it to the others."""
        if batch.base_revision != self.revision:
            raise RuntimeError(
                f"batch prepared on revision {batch.base_revision} committed on {self.revision}"
            )
        outgoing = list(batch.replies)
        for record in batch.records:
            self._advance(record)
            if record.client_id in self.editors:
                outgoing.append(Send(record.client_id, self._ack(record.edit_id, record.revision)))
            outgoing.append(Broadcast(self._update(record), exclude=record.client_id))
        self.content = batch.content
        for client_id, edit_id, revision in batch.duplicates:
            outgoing.append(Send(client_id, self._ack(edit_id, revision)))
        return outgoing

    def abort(self, batch: PreparedBatch, error: DocServerError) -> list[Outgoing]:
        """Reject every edit of a batch that could not be stored; the session is unchanged."""
        outgoing = list(batch.replies)
        for record in batch.records:
            outgoing.append(Send(record.client_id, error_message(error, record.edit_id)))
        for client_id, edit_id, _ in batch.duplicates:
            outgoing.append(Send(client_id, error_message(error, edit_id)))
        return outgoing

    def apply_foreign(self, records: Sequence[OpRecord]) -> list[Outgoing]:
        """Apply operations that the store has and this session lacks, and broadcast them.

        Another server committed them, or an append here whose reply was lost. An author
        connected here gets an ack instead of the update, before any later revision. It may
        still hold the edit as outstanding (after a store-unavailable error, or after
        reconnecting), and it can't recognize its own edit in an update. Clients must ignore an
        ack for an edit they don't hold, because a resubmission is acknowledged again.
        """
        outgoing: list[Outgoing] = []
        for record in records:
            if record.revision <= self.revision:
                continue
            if record.revision != self.revision + 1:
                raise ValueError(
                    f"stored revision {record.revision} does not follow revision {self.revision}"
                )
            self.content = ot.apply(self.content, record.op)
            self._advance(record)
            if record.client_id in self.editors:
                outgoing.append(Send(record.client_id, self._ack(record.edit_id, record.revision)))
            outgoing.append(Broadcast(self._update(record), exclude=record.client_id))
        return outgoing

    def _advance(self, record: OpRecord) -> None:
        for editor in self.editors.values():
            if editor.selection is not None:
                bias = ot.Bias.AFTER if editor.client_id == record.client_id else ot.Bias.BEFORE
                editor.selection = ot.transform_selection(editor.selection, record.op, bias)
        self.revision = record.revision
        self._remember(record)

    @staticmethod
    def _ack(edit_id: str, revision: int) -> dict[str, Any]:
        return {"type": "ack", "id": edit_id, "rev": revision}

    @staticmethod
    def _update(record: OpRecord) -> dict[str, Any]:
        return {
            "type": "update",
            "rev": record.revision,
            "op": record.op,
            "client": record.client_id,
        }
