"""Cursor positions and selections carried through operations."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ot.errors import ErrorKind, InvalidOperation
from ot.operation import Operation

__all__ = ["Bias", "Selection", "transform_position", "transform_selection"]


class Bias(Enum):
    """Side a position takes when an operation inserts exactly at it."""

    BEFORE = "before"
    """Stay before the inserted text, as another user's cursor usually should."""

    AFTER = "after"
    """Move after the inserted text, as the typing user's own cursor does."""


@dataclass(frozen=True, slots=True)
class Selection:
    """Selected range as code point positions, where ``anchor`` is fixed and ``head`` moves.

    A cursor is a selection with ``anchor == head``. ``head`` may be before ``anchor``.
    """

    anchor: int
    head: int


def transform_position(pos: int, op: Operation, bias: Bias = Bias.BEFORE) -> int:
    """Return where position ``pos`` lands in the document after ``op``.

    Law: a code point at index ``i`` that ``op`` does not delete is at index
    ``transform_position(i, op, Bias.AFTER)`` of ``apply(s, op)``.

    An insert exactly at ``pos`` leaves the position before the inserted text
    with ``Bias.BEFORE`` and moves it after the text with ``Bias.AFTER``. A
    position inside or at the end of a deleted range moves to the start of that
    range. An insert adjacent to the range comes before it in normalized form,
    so that start is after the inserted text.

    Raises:
        InvalidOperation: ``pos`` is negative or past ``base_length(op)``.
    """
    if pos < 0:
        raise InvalidOperation(f"position {pos} is negative", ErrorKind.OUT_OF_RANGE)

    old = 0  # position in the document before op
    new = 0  # the same place in the document after op
    for part in op:
        if isinstance(part, str):
            if pos == old and bias is Bias.BEFORE:
                return new
            new += len(part)
        elif part > 0:
            if pos < old + part:
                return new + pos - old
            old += part
            new += part
        else:
            if pos <= old - part:
                return new
            old -= part

    if pos > old:
        raise InvalidOperation(
            f"position {pos} is past the end of a {old}-character document",
            ErrorKind.OUT_OF_RANGE,
        )
    return new


def transform_selection(
    sel: Selection, op: Operation, bias: Bias = Bias.BEFORE
) -> Selection:
    """Return ``sel`` with both ends moved by ``transform_position`` with the same ``bias``.

    Raises:
        InvalidOperation: either end is outside the document ``op`` applies to.
    """
    anchor = transform_position(sel.anchor, op, bias)
    if sel.head == sel.anchor:
        return Selection(anchor, anchor)
    return Selection(anchor, transform_position(sel.head, op, bias))
