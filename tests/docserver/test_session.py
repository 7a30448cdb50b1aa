"""DocumentSession without sockets or storage: messages in, messages out."""

from __future__ import annotations

from typing import Any

import pytest

import ot
from docserver.errors import ClientError, ResyncRequired, Retryable
from docserver.protocol import CursorUpdate, Edit, Join
from docserver.session import Broadcast, DocumentSession, Outgoing, Send, default_color
from docserver.store import OpRecord

NOW = 1000.0


def make_session(content: str = "hello", **options: Any) -> DocumentSession:
    return DocumentSession("doc", version=0, revision=0, content=content, clock=lambda: NOW, **options)


def join(session: DocumentSession, client: str, revision: int | None = None) -> list[Outgoing]:
    return session.join(Join(client_id=client, name="", color=None, revision=revision))


def insert(edit_id: str, rev: int, pos: int, text: str) -> Edit:
    return Edit(edit_id=edit_id, base_revision=rev, position=pos, text=text)


def delete(edit_id: str, rev: int, pos: int, count: int) -> Edit:
    return Edit(edit_id=edit_id, base_revision=rev, position=pos, delete_count=count)


def run(session: DocumentSession, *edits: tuple[str, Edit]) -> list[Outgoing]:
    """Prepare and commit a batch, as the host does when the store append succeeds."""
    return session.commit(session.prepare(list(edits)))


def ack(client: str, edit_id: str, rev: int) -> Send:
    return Send(client, {"type": "ack", "id": edit_id, "rev": rev})


def update(rev: int, op: ot.Operation, client: str) -> Broadcast:
    return Broadcast({"type": "update", "rev": rev, "op": op, "client": client}, exclude=client)


def errors(outgoing: list[Outgoing]) -> list[tuple[str, str | None, str]]:
    """Return (recipient, edit id, code) of every error message in `outgoing`."""
    found = []
    for item in outgoing:
        if isinstance(item, Send) and item.message["type"] == "error":
            found.append((item.to, item.message.get("id"), item.message["code"]))
    return found


def record(rev: int, op: ot.Operation, client: str, edit_id: str) -> OpRecord:
    return OpRecord(revision=rev, op=op, client_id=client, edit_id=edit_id, committed_at=NOW)


# joining and leaving


def test_join_sends_content() -> None:
    session = make_session("hello")

    outgoing = join(session, "a")

    assert outgoing[0] == Send(
        "a",
        {"type": "init", "doc": "doc", "rev": 0, "client": "a", "editors": [], "content": "hello"},
    )


def test_join_announces_editor() -> None:
    session = make_session()
    join(session, "a")

    outgoing = session.join(Join(client_id="b", name="Bea", color="#000000", revision=None))

    assert outgoing[0].message["editors"] == [
        {"client": "a", "name": "a", "color": default_color("a"), "cursor": None}
    ]
    assert outgoing[1] == Broadcast(
        {"type": "joined", "client": "b", "name": "Bea", "color": "#000000", "cursor": None},
        exclude="b",
    )
    assert len(outgoing) == 2


def test_rejoin_is_announced_with_new_name() -> None:
    session = make_session()
    join(session, "a")
    join(session, "b")
    session.update_cursor("a", CursorUpdate(revision=0, anchor=0, head=0))

    outgoing = session.join(Join(client_id="a", name="Ada", color=None, revision=None))

    assert [type(item) for item in outgoing] == [Send, Broadcast]
    assert outgoing[0].message["type"] == "init"
    announce = outgoing[1].message
    assert announce["type"] == "joined"
    assert announce["name"] == "Ada"
    assert announce["cursor"] is None
    assert outgoing[1].exclude == "a"


def test_join_with_revision_sends_missed_ops() -> None:
    session = make_session("hello")
    join(session, "a")
    run(session, ("a", insert("e1", 0, 0, "A")))
    run(session, ("a", insert("e2", 1, 6, "B")))

    init = join(session, "b", revision=1)[0].message

    assert "content" not in init
    assert init["rev"] == 2
    assert init["ops"] == [{"rev": 2, "op": [6, "B"], "client": "a", "id": "e2"}]


def test_join_at_current_revision_gets_no_ops() -> None:
    session = make_session()
    run(session, ("a", insert("e1", 0, 0, "A")))

    init = join(session, "b", revision=1)[0].message

    assert init["ops"] == []
    assert "content" not in init


@pytest.mark.parametrize("revision", [0, 9], ids=["trimmed", "ahead"])
def test_join_with_unknown_revision_sends_content(revision: int) -> None:
    session = make_session("", history_limit=2)
    for n in range(5):
        run(session, ("a", insert(f"e{n}", n, 0, "x")))

    init = join(session, "b", revision=revision)[0].message

    assert init["content"] == "xxxxx"
    assert "ops" not in init


def test_leave_broadcasts_left() -> None:
    session = make_session()
    join(session, "a")

    outgoing = session.leave("a")

    assert outgoing == [Broadcast({"type": "left", "client": "a"}, exclude="a")]
    assert "a" not in session.editors


def test_leave_of_unknown_client_sends_nothing() -> None:
    assert make_session().leave("nobody") == []


# edits


def test_edit_is_acked_and_broadcast() -> None:
    session = make_session("hello")
    join(session, "a")

    outgoing = run(session, ("a", insert("e1", 0, 5, "!")))

    assert outgoing == [ack("a", "e1", 1), update(1, [5, "!"], "a")]
    assert session.content == "hello!"
    assert session.revision == 1


def test_concurrent_edits_are_transformed() -> None:
    session = make_session("hello")
    join(session, "a")
    join(session, "b")

    outgoing = run(session, ("a", insert("e1", 0, 0, "A")), ("b", insert("e2", 0, 5, "B")))

    assert outgoing == [
        ack("a", "e1", 1),
        update(1, ["A", 5], "a"),
        ack("b", "e2", 2),
        update(2, [6, "B"], "b"),
    ]
    assert session.content == "AhelloB"


def test_late_edit_is_transformed_over_commits() -> None:
    session = make_session("hello")
    join(session, "a")
    join(session, "b")
    run(session, ("a", delete("e1", 0, 0, 2)))

    outgoing = run(session, ("b", insert("e2", 0, 5, "!")))

    assert outgoing == [ack("b", "e2", 2), update(2, [3, "!"], "b")]
    assert session.content == "llo!"


def test_tied_inserts_keep_committed_first() -> None:
    session = make_session("")
    run(session, ("a", insert("e1", 0, 0, "A")))

    run(session, ("b", insert("e2", 0, 0, "B")))

    assert session.content == "AB"


def test_edit_of_departed_author_is_not_acked() -> None:
    session = make_session("hello")
    join(session, "b")

    outgoing = run(session, ("a", insert("e1", 0, 0, "A")))

    assert outgoing == [update(1, ["A", 5], "a")]


# resubmissions


def test_duplicate_edit_is_acked_once() -> None:
    session = make_session("hello")
    join(session, "a")
    run(session, ("a", insert("e1", 0, 0, "A")))

    batch = session.prepare([("a", insert("e1", 0, 0, "A"))])
    outgoing = session.commit(batch)

    assert batch.records == []
    assert outgoing == [ack("a", "e1", 1)]
    assert session.content == "Ahello"
    assert session.revision == 1


def test_duplicate_in_batch_is_acked_once() -> None:
    session = make_session("hello")
    join(session, "a")

    batch = session.prepare([("a", insert("e1", 0, 0, "A")), ("a", insert("e1", 0, 0, "A"))])
    outgoing = session.commit(batch)

    assert len(batch.records) == 1
    assert outgoing == [ack("a", "e1", 1), update(1, ["A", 5], "a"), ack("a", "e1", 1)]
    assert session.content == "Ahello"
    assert session.revision == 1


def test_same_edit_id_of_other_client_is_applied() -> None:
    session = make_session("")

    run(session, ("a", insert("e1", 0, 0, "A")), ("b", insert("e1", 0, 0, "B")))

    assert session.content == "AB"
    assert session.revision == 2


# rejected edits


def test_future_base_revision_needs_resync() -> None:
    session = make_session()
    join(session, "a")

    outgoing = run(session, ("a", insert("e1", 1, 0, "x")))

    assert errors(outgoing) == [("a", "e1", "resync-required")]
    assert "ahead of the document's revision 0" in outgoing[0].message["message"]
    assert session.revision == 0


def test_trimmed_base_revision_needs_resync() -> None:
    session = make_session("", history_limit=2)
    join(session, "a")
    for n in range(5):
        run(session, ("a", insert(f"e{n}", n, 0, "x")))

    outgoing = run(session, ("a", insert("late", 2, 0, "y")))

    assert session.oldest_revision == 3
    assert errors(outgoing) == [("a", "late", "resync-required")]
    assert "older than the oldest kept revision 3" in outgoing[0].message["message"]
    assert session.content == "xxxxx"


def test_oldest_kept_revision_is_accepted() -> None:
    session = make_session("", history_limit=2)
    for n in range(5):
        run(session, ("a", insert(f"e{n}", n, 0, "x")))

    run(session, ("b", insert("late", 3, 3, "y")))

    assert session.content == "xxxxxy"


@pytest.mark.parametrize(
    ("edit", "text"),
    [
        pytest.param(insert("bad", 0, 6, "x"), "outside a 5-character document", id="insert past end"),
        pytest.param(delete("bad", 0, 3, 3), "goes past the end", id="delete past end"),
        pytest.param(Edit("bad", 0, op=[6]), "operation spans 6 characters", id="retain past end"),
        pytest.param(Edit("bad", 0, op=[4]), "operation spans 4 characters", id="short operation"),
    ],
)
def test_invalid_operation_is_rejected(edit: Edit, text: str) -> None:
    session = make_session("hello")
    join(session, "a")

    outgoing = run(session, ("a", edit), ("a", insert("good", 0, 0, "!")))

    assert errors(outgoing) == [("a", "bad", "invalid-operation")]
    assert text in outgoing[0].message["message"]
    assert session.content == "!hello"
    assert session.revision == 1


def test_document_too_large_is_rejected() -> None:
    session = make_session("hello", max_length=8)
    join(session, "a")

    outgoing = run(session, ("a", insert("big", 0, 5, "abcd")), ("a", insert("fits", 0, 5, "abc")))

    assert errors(outgoing) == [("a", "big", "document-too-large")]
    assert "9 characters long; the limit is 8" in outgoing[0].message["message"]
    assert session.content == "helloabc"


def test_shrinking_oversized_document_is_allowed() -> None:
    session = make_session("hello", max_length=3)

    run(session, ("a", delete("e1", 0, 0, 1)))

    assert session.content == "ello"


def test_growing_oversized_document_is_rejected() -> None:
    # The document shrank from 25 to 20 characters since the edit's base revision. The limit
    # of 10 is below both, as after an operator lowers it, and the edit grows the document.
    session = DocumentSession(
        "doc",
        version=0,
        revision=1,
        content="x" * 20,
        history=[record(1, [-5, 20], "b", "shrink")],
        max_length=10,
    )

    outgoing = run(session, ("a", insert("grow", 0, 0, "y")))

    assert errors(outgoing) == [("a", "grow", "document-too-large")]
    assert session.content == "x" * 20


# store failures


def test_abort_leaves_state_unchanged() -> None:
    session = make_session("hello")
    join(session, "a")
    join(session, "b")
    edits = [
        ("a", insert("e1", 0, 0, "A")),
        ("b", insert("e2", 0, 0, "B")),
        ("a", insert("e1", 0, 0, "A")),
        ("b", insert("bad", 0, 9, "x")),
    ]

    outgoing = session.abort(session.prepare(edits), Retryable("the edit was not stored: disk full"))

    assert errors(outgoing) == [
        ("b", "bad", "invalid-operation"),
        ("a", "e1", "store-unavailable"),
        ("b", "e2", "store-unavailable"),
        ("a", "e1", "store-unavailable"),
    ]
    assert outgoing[1].message["message"] == "the edit was not stored: disk full"
    assert session.content == "hello"
    assert session.revision == 0
    assert session.history_after(0) == []


def test_aborted_edit_can_be_resubmitted() -> None:
    session = make_session("hello")
    join(session, "a")
    session.abort(session.prepare([("a", insert("e1", 0, 0, "A"))]), Retryable("down"))

    outgoing = run(session, ("a", insert("e1", 0, 0, "A")))

    assert outgoing[0] == ack("a", "e1", 1)
    assert session.content == "Ahello"


def test_commit_on_moved_revision_raises() -> None:
    session = make_session()
    batch = session.prepare([("a", insert("e1", 0, 0, "A"))])
    run(session, ("b", insert("e2", 0, 0, "B")))

    with pytest.raises(RuntimeError):
        session.commit(batch)


# operations committed by another server


def test_apply_foreign_broadcasts_update() -> None:
    session = make_session("hello")
    join(session, "a")

    outgoing = session.apply_foreign([record(1, ["X", 5], "c", "f1")])

    assert outgoing == [update(1, ["X", 5], "c")]
    assert session.content == "Xhello"
    assert session.revision == 1


def test_apply_foreign_acks_connected_author() -> None:
    session = make_session("hello")
    join(session, "a")
    join(session, "c")

    outgoing = session.apply_foreign([record(1, ["X", 5], "c", "f1"), record(2, [6, "!"], "d", "f2")])

    assert outgoing == [ack("c", "f1", 1), update(1, ["X", 5], "c"), update(2, [6, "!"], "d")]


def test_apply_foreign_skips_known_revisions() -> None:
    session = make_session("hello")
    run(session, ("a", insert("e1", 0, 0, "A")))

    outgoing = session.apply_foreign([record(1, ["A", 5], "a", "e1"), record(2, [6, "!"], "c", "f1")])

    assert outgoing == [update(2, [6, "!"], "c")]
    assert session.content == "Ahello!"


def test_apply_foreign_rejects_gap() -> None:
    session = make_session("hello")

    with pytest.raises(ValueError, match="stored revision 2 does not follow revision 0"):
        session.apply_foreign([record(2, ["X", 5], "c", "f1")])
    assert session.revision == 0


def test_resubmitted_foreign_edit_is_acked() -> None:
    session = make_session("hello")
    session.apply_foreign([record(1, ["X", 5], "c", "f1")])
    join(session, "c", revision=0)

    outgoing = run(session, ("c", insert("f1", 0, 0, "X")))

    assert outgoing == [ack("c", "f1", 1)]
    assert session.content == "Xhello"


# cursors


def cursor(rev: int, anchor: int, head: int | None = None) -> CursorUpdate:
    return CursorUpdate(revision=rev, anchor=anchor, head=anchor if head is None else head)


def test_cursor_is_broadcast() -> None:
    session = make_session("hello")
    join(session, "a")

    outgoing = session.update_cursor("a", cursor(0, 1, 3))

    assert outgoing == [
        Broadcast({"type": "cursor", "client": "a", "rev": 0, "anchor": 1, "head": 3}, exclude="a")
    ]
    assert session.editors["a"].selection == ot.Selection(1, 3)


def test_own_insert_moves_cursor_after() -> None:
    session = make_session("hello")
    join(session, "a")
    session.update_cursor("a", cursor(0, 2))

    run(session, ("a", insert("e1", 0, 2, "xy")))

    assert session.editors["a"].selection == ot.Selection(4, 4)


def test_other_insert_keeps_cursor_before() -> None:
    session = make_session("hello")
    join(session, "a")
    join(session, "b")
    session.update_cursor("b", cursor(0, 2))

    run(session, ("a", insert("e1", 0, 2, "xy")))

    assert session.editors["b"].selection == ot.Selection(2, 2)


def test_foreign_insert_moves_cursors() -> None:
    session = make_session("hello")
    join(session, "b")
    session.update_cursor("b", cursor(0, 3))

    session.apply_foreign([record(1, ["XX", 5], "c", "f1")])

    assert session.editors["b"].selection == ot.Selection(5, 5)


def test_cursor_on_old_revision_is_transformed() -> None:
    session = make_session("hello")
    join(session, "a")
    join(session, "b")
    run(session, ("a", insert("e1", 0, 0, "XX")))

    outgoing = session.update_cursor("b", cursor(0, 2, 5))

    assert outgoing[0].message == {"type": "cursor", "client": "b", "rev": 1, "anchor": 4, "head": 7}


def test_cursor_after_own_edit_moves_with_it() -> None:
    # A cursor sent before the author saw its ack sits at the insert and moves after it.
    session = make_session("hello")
    join(session, "a")
    run(session, ("a", insert("e1", 0, 2, "xy")))

    outgoing = session.update_cursor("a", cursor(0, 2))

    assert outgoing[0].message["anchor"] == 4


@pytest.mark.parametrize(("anchor", "head"), [(6, 6), (0, 6)], ids=["anchor", "head"])
def test_cursor_past_end_is_invalid(anchor: int, head: int) -> None:
    session = make_session("hello")
    join(session, "a")

    with pytest.raises(ClientError) as caught:
        session.update_cursor("a", cursor(0, anchor, head))

    assert caught.value.code == "invalid-cursor"
    assert "past the end of revision 0, which has 5 characters" in caught.value.message
    assert session.editors["a"].selection is None


def test_cursor_on_future_revision_needs_resync() -> None:
    session = make_session("hello")
    join(session, "a")

    with pytest.raises(ResyncRequired):
        session.update_cursor("a", cursor(1, 0))


def test_init_lists_cursors_of_others() -> None:
    session = make_session("hello")
    join(session, "a")
    session.update_cursor("a", cursor(0, 1, 2))

    init = join(session, "b")[0].message

    assert init["editors"][0]["cursor"] == {"anchor": 1, "head": 2}


# history


def test_history_trimming_keeps_dedup_of_kept_ops() -> None:
    session = make_session("", history_limit=4)
    join(session, "a")
    for n in range(10):
        run(session, ("a", insert(f"e{n}", n, n, "x")))

    recent_reply = run(session, ("a", insert("e9", 9, 9, "x")))
    old_reply = run(session, ("a", insert("e0", 0, 0, "x")))

    assert session.oldest_revision == 6
    assert [r.edit_id for r in session.history_after(6)] == ["e6", "e7", "e8", "e9"]
    assert recent_reply == [ack("a", "e9", 10)]
    assert errors(old_reply) == [("a", "e0", "resync-required")]
    assert session.content == "x" * 10


def test_history_is_trimmed_in_chunks() -> None:
    session = make_session("", history_limit=8)
    for n in range(9):
        run(session, ("a", insert(f"e{n}", n, 0, "x")))

    assert session.oldest_revision == 0

    run(session, ("a", insert("e9", 9, 0, "x")))

    assert session.oldest_revision == 2


def test_loaded_history_must_end_at_revision() -> None:
    with pytest.raises(ValueError, match="history ends at revision 1, not at revision 2"):
        DocumentSession("doc", version=0, revision=2, content="", history=[record(1, ["x"], "a", "e")])


def test_loaded_history_is_deduplicated() -> None:
    session = DocumentSession(
        "doc", version=0, revision=1, content="x", history=[record(1, ["x"], "a", "e1")]
    )

    outgoing = session.commit(session.prepare([("a", insert("e1", 0, 0, "x"))]))

    assert outgoing == [ack("a", "e1", 1)]
    assert session.content == "x"


def test_history_bytes_limit_drops_huge_operations() -> None:
    session = make_session("", history_bytes=100_000)
    join(session, "a")
    for n in range(10):
        run(session, ("a", insert(f"e{n}", n, 0, "x" * 30_000)))

    # Ten 30 KB operations don't fit in 100 KB: only the newest few are kept.
    assert session.oldest_revision >= 6
    assert session.oldest_revision < 10
    assert session.history_after(session.oldest_revision)[-1].revision == 10
    with pytest.raises(ResyncRequired):
        session.history_after(0)


def test_late_edit_over_large_operations_needs_resync() -> None:
    session = make_session("")
    join(session, "a")
    # Three operations of about 400,000 parts each: inserting after every character.
    run(session, ("a", insert("big", 0, 0, "x" * 400_000)))
    for n in range(3):
        big = [part for _ in range(200_000) for part in (1, "y")] + [400_000 + n * 200_000 - 200_000]
        op: ot.Operation = ot.normalize(big)
        run(session, ("a", Edit(edit_id=f"spread{n}", base_revision=1 + n, op=op)))

    # A one-character edit on revision 1 would walk all of those parts.
    outgoing = run(session, ("b", Edit(edit_id="tiny", base_revision=1, op=["!", 400_000])))

    errors = [item.message for item in outgoing if item.message["type"] == "error"]
    assert [error["code"] for error in errors] == ["resync-required"]
    assert session.revision == 4
