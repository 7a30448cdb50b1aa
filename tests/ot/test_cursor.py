"""Tests for cursor positions and selections moved through operations."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ot import (
    Bias,
    ErrorKind,
    InvalidOperation,
    Operation,
    Selection,
    apply,
    from_splice,
    target_length,
    transform,
    transform_position,
    transform_selection,
)
from tests.ot.strategies import REPLAYABLE, document_and_operation, documents, insert_texts, operations

EMOJI = "\U0001f600"

# Private-use code points label each character of the old document. Documents
# drawn by the strategies can contain them, so marking replaces the text first.
_MARK_BASE = 0xF0000
_FILLER = "\x00"


def _marked(length: int) -> str:
    return "".join(chr(_MARK_BASE + i) for i in range(length))


def _without_insert_text(op: Operation) -> Operation:
    return [_FILLER * len(part) if isinstance(part, str) else part for part in op]


def _new_indexes(length: int, op: Operation) -> dict[int, int]:
    """Map each old index whose character survives ``op`` to its new index."""
    result = apply(_marked(length), _without_insert_text(op))
    return {ord(char) - _MARK_BASE: index for index, char in enumerate(result) if char != _FILLER}


@pytest.mark.parametrize(
    ("pos", "op", "bias", "expected"),
    [
        pytest.param(0, [], Bias.BEFORE, 0, id="empty op"),
        pytest.param(0, ["ab"], Bias.BEFORE, 0, id="insert into empty before"),
        pytest.param(0, ["ab"], Bias.AFTER, 2, id="insert into empty after"),
        pytest.param(2, [2, "xy", 3], Bias.BEFORE, 2, id="insert at position before"),
        pytest.param(2, [2, "xy", 3], Bias.AFTER, 4, id="insert at position after"),
        pytest.param(3, [2, "xy", 3], Bias.BEFORE, 5, id="insert before position"),
        pytest.param(1, [2, "xy", 3], Bias.AFTER, 1, id="insert after position"),
        pytest.param(5, [5, "x"], Bias.BEFORE, 5, id="append at end before"),
        pytest.param(5, [5, "x"], Bias.AFTER, 6, id="append at end after"),
        pytest.param(3, [1, -3, 1], Bias.BEFORE, 1, id="inside delete collapses"),
        pytest.param(4, [1, -3, 1], Bias.AFTER, 1, id="end of delete collapses"),
        pytest.param(1, [1, -3, 1], Bias.AFTER, 1, id="start of delete stays"),
        pytest.param(5, [1, -3, 1], Bias.BEFORE, 2, id="after delete shifts"),
        pytest.param(2, [1, "xy", -3, 1], Bias.BEFORE, 3, id="replaced range collapses after insert"),
        pytest.param(1, [1, "xy", -3, 1], Bias.BEFORE, 1, id="start of replaced range before"),
        pytest.param(1, [1, "xy", -3, 1], Bias.AFTER, 3, id="start of replaced range after"),
        pytest.param(2, [1, EMOJI, 2], Bias.BEFORE, 3, id="emoji counts one"),
    ],
)
def test_transform_position_examples(pos: int, op: Operation, bias: Bias, expected: int) -> None:
    assert transform_position(pos, op, bias) == expected


def test_transform_position_defaults_to_before() -> None:
    assert transform_position(0, ["x", 1]) == 0


@pytest.mark.parametrize(
    ("pos", "op", "fragments"),
    [
        pytest.param(-1, [3], ["position -1", "negative"], id="negative"),
        pytest.param(4, [3], ["position 4", "3-character document"], id="past end"),
        pytest.param(1, ["x"], ["position 1", "0-character document"], id="past end of empty"),
    ],
)
def test_transform_position_rejects_out_of_range(pos: int, op: Operation, fragments: list[str]) -> None:
    with pytest.raises(InvalidOperation) as info:
        transform_position(pos, op)

    assert info.value.kind is ErrorKind.OUT_OF_RANGE
    for fragment in fragments:
        assert fragment in str(info.value)


@REPLAYABLE
@given(document_and_operation())
def test_transform_position_after_follows_surviving_character(pair: tuple[str, Operation]) -> None:
    text, op = pair
    new_indexes = _new_indexes(len(text), op)

    for old_index, new_index in new_indexes.items():
        assert transform_position(old_index, op, Bias.AFTER) == new_index, old_index


@REPLAYABLE
@given(document_and_operation())
def test_transform_position_before_stays_after_previous_character(pair: tuple[str, Operation]) -> None:
    text, op = pair
    new_indexes = _new_indexes(len(text), op)

    for old_index, new_index in new_indexes.items():
        assert transform_position(old_index + 1, op, Bias.BEFORE) == new_index + 1, old_index


@REPLAYABLE
@given(document_and_operation())
def test_transform_position_keeps_order_and_range(pair: tuple[str, Operation]) -> None:
    text, op = pair

    for bias in Bias:
        moved = [transform_position(pos, op, bias) for pos in range(len(text) + 1)]
        assert moved == sorted(moved)
        assert all(0 <= pos <= target_length(op) for pos in moved)


@REPLAYABLE
@given(st.data())
def test_transform_position_matches_transform_of_insert(data: st.DataObject) -> None:
    # A committed op moves a late insert to where transform puts it, since the
    # late insert is the second argument and loses ties.
    text = data.draw(documents())
    committed = data.draw(operations(len(text)))
    pos = data.draw(st.integers(min_value=0, max_value=len(text)))
    late = from_splice(len(text), pos, 0, data.draw(insert_texts()))

    late_prime = transform(committed, late)[1]

    first = late_prime[0]
    expected = first if isinstance(first, int) and len(late_prime) > 1 else 0
    assert transform_position(pos, committed, Bias.AFTER) == expected


@pytest.mark.parametrize(
    ("sel", "op", "bias", "expected"),
    [
        pytest.param(Selection(1, 1), ["x", 3], Bias.BEFORE, Selection(2, 2), id="cursor shifts"),
        pytest.param(Selection(0, 0), ["x", 3], Bias.BEFORE, Selection(0, 0), id="cursor at insert before"),
        pytest.param(Selection(0, 0), ["x", 3], Bias.AFTER, Selection(1, 1), id="cursor at insert after"),
        pytest.param(Selection(1, 3), [1, "ab", 2], Bias.BEFORE, Selection(1, 5), id="range grows at head"),
        pytest.param(Selection(3, 1), [1, "ab", 2], Bias.AFTER, Selection(5, 3), id="backward range"),
        pytest.param(Selection(1, 3), [-3], Bias.BEFORE, Selection(0, 0), id="deleted range collapses"),
    ],
)
def test_transform_selection_examples(sel: Selection, op: Operation, bias: Bias, expected: Selection) -> None:
    assert transform_selection(sel, op, bias) == expected


@REPLAYABLE
@given(st.data())
def test_transform_selection_moves_each_end_like_position(data: st.DataObject) -> None:
    text, op = data.draw(document_and_operation())
    anchor = data.draw(st.integers(min_value=0, max_value=len(text)))
    head = data.draw(st.integers(min_value=0, max_value=len(text)))
    bias = data.draw(st.sampled_from(Bias))

    moved = transform_selection(Selection(anchor, head), op, bias)

    assert moved.anchor == transform_position(anchor, op, bias)
    assert moved.head == transform_position(head, op, bias)


def test_transform_selection_rejects_head_past_end() -> None:
    with pytest.raises(InvalidOperation) as info:
        transform_selection(Selection(0, 9), [3])

    assert info.value.kind is ErrorKind.OUT_OF_RANGE


def test_selection_is_frozen() -> None:
    sel = Selection(1, 2)

    with pytest.raises(AttributeError):
        sel.anchor = 5  # type: ignore[misc]
