"""Tests for operations: validation, normalization, apply, compose, transform, invert and splices."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ot import (
    MAX_PART_LENGTH,
    ErrorKind,
    InvalidOperation,
    Operation,
    apply,
    base_length,
    check,
    compose,
    from_splice,
    invert,
    is_noop,
    normalize,
    target_length,
    transform,
)
from tests.ot.strategies import (
    REPLAYABLE,
    concurrent_operations,
    document_and_operation,
    documents,
    insert_texts,
    operations,
    raw_operations,
)

EMOJI = "\U0001f600"
FAMILY = "\U0001f469\u200d\U0001f467"  # woman and girl joined by ZWJ: 3 code points


# check


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        pytest.param([], [], id="empty"),
        pytest.param([5], [5], id="retain only"),
        pytest.param([2, 3], [5], id="adjacent retains merge"),
        pytest.param(["a", "b"], ["ab"], id="adjacent inserts merge"),
        pytest.param([-1, -2], [-3], id="adjacent deletes merge"),
        pytest.param([-2, "x"], ["x", -2], id="insert moves before delete"),
        pytest.param([1, -2, "x", 1], [1, "x", -2, 1], id="insert moves before inner delete"),
        pytest.param(["a", -2, "b", -1], ["ab", -3], id="inserts around delete merge"),
        pytest.param([3, -1, 2], [3, -1, 2], id="trailing retain kept"),
        pytest.param([EMOJI, 1], [EMOJI, 1], id="emoji insert"),
        pytest.param([MAX_PART_LENGTH, -MAX_PART_LENGTH], [MAX_PART_LENGTH, -MAX_PART_LENGTH], id="limit"),
    ],
)
def test_check_returns_normalized_copy(op: Operation, expected: Operation) -> None:
    original = list(op)

    result = check(op)

    assert result == expected
    assert op == original, "check must not modify its argument"


@pytest.mark.parametrize(
    ("op", "kind", "fragments"),
    [
        pytest.param({"retain": 1}, ErrorKind.NOT_A_LIST, ["must be a list", "dict"], id="dict"),
        pytest.param(None, ErrorKind.NOT_A_LIST, ["must be a list", "NoneType"], id="none"),
        pytest.param("abc", ErrorKind.NOT_A_LIST, ["must be a list", "str"], id="string"),
        pytest.param((1, 2), ErrorKind.NOT_A_LIST, ["must be a list", "tuple"], id="tuple"),
        pytest.param(5, ErrorKind.NOT_A_LIST, ["must be a list", "int"], id="int"),
        pytest.param([True], ErrorKind.INVALID_PART, ["part 0", "bool", "True"], id="bool true"),
        pytest.param([1, False], ErrorKind.INVALID_PART, ["part 1", "bool", "False"], id="bool false"),
        pytest.param([1.0], ErrorKind.INVALID_PART, ["part 0", "float", "1.0"], id="float"),
        pytest.param([2, None], ErrorKind.INVALID_PART, ["part 1", "NoneType"], id="none part"),
        pytest.param([{"insert": "x"}], ErrorKind.INVALID_PART, ["part 0", "dict"], id="dict part"),
        pytest.param([[]], ErrorKind.INVALID_PART, ["part 0", "list", "[]"], id="nested empty list"),
        pytest.param([1, [2]], ErrorKind.INVALID_PART, ["part 1", "list"], id="nested list"),
        pytest.param([b"x"], ErrorKind.INVALID_PART, ["part 0", "bytes"], id="bytes"),
        pytest.param([0], ErrorKind.EMPTY_PART, ["part 0", "is 0"], id="zero"),
        pytest.param([3, 0, 2], ErrorKind.EMPTY_PART, ["part 1", "is 0"], id="inner zero"),
        pytest.param([""], ErrorKind.EMPTY_PART, ["part 0", "empty string"], id="empty insert"),
        pytest.param([1, ""], ErrorKind.EMPTY_PART, ["part 1", "empty string"], id="inner empty insert"),
        pytest.param([MAX_PART_LENGTH + 1], ErrorKind.PART_TOO_LONG, ["part 0", "2147483649", "2**31"], id="huge retain"),
        pytest.param([1, -(MAX_PART_LENGTH + 1)], ErrorKind.PART_TOO_LONG, ["part 1", "-2147483649"], id="huge delete"),
        pytest.param(["\ud800"], ErrorKind.LONE_SURROGATE, ["part 0", "U+D800", "offset 0"], id="high surrogate"),
        pytest.param([1, "ab\udfff"], ErrorKind.LONE_SURROGATE, ["part 1", "U+DFFF", "offset 2"], id="low surrogate"),
        pytest.param(["\udc00\ud83d"], ErrorKind.LONE_SURROGATE, ["part 0", "U+DC00"], id="reversed pair"),
    ],
)
def test_check_rejects_invalid_op(op: object, kind: ErrorKind, fragments: list[str]) -> None:
    with pytest.raises(InvalidOperation) as info:
        check(op)

    assert info.value.kind is kind
    for fragment in fragments:
        assert fragment in str(info.value)


def test_invalid_operation_is_value_error() -> None:
    assert issubclass(InvalidOperation, ValueError)


@REPLAYABLE
@given(st.data())
def test_check_of_normalized_op_is_identity(data: st.DataObject) -> None:
    text = data.draw(documents())
    op = normalize(data.draw(raw_operations(len(text))))

    assert check(op) == op


@REPLAYABLE
@given(st.data())
def test_check_matches_normalize_on_valid_parts(data: st.DataObject) -> None:
    text = data.draw(documents())
    op = data.draw(raw_operations(len(text)))

    assert check(op) == normalize(op)


# normalize and lengths


@REPLAYABLE
@given(st.data())
def test_normalize_is_idempotent(data: st.DataObject) -> None:
    text = data.draw(documents())
    once = normalize(data.draw(raw_operations(len(text))))

    assert normalize(once) == once


@REPLAYABLE
@given(st.data())
def test_normalize_preserves_effect(data: st.DataObject) -> None:
    text = data.draw(documents())
    op = data.draw(raw_operations(len(text)))

    assert apply(text, normalize(op)) == apply(text, op)


def test_normalize_drops_zero_and_empty_parts() -> None:
    assert normalize([0, "", 2, 0, -1, ""]) == [2, -1]


@pytest.mark.parametrize(
    ("op", "base", "target"),
    [
        pytest.param([], 0, 0, id="empty"),
        pytest.param([3], 3, 3, id="retain"),
        pytest.param(["ab"], 0, 2, id="insert"),
        pytest.param([-4], 4, 0, id="delete"),
        pytest.param([1, EMOJI, -2, 1], 4, 3, id="emoji counts one"),
        pytest.param([FAMILY], 0, 3, id="zwj sequence counts its code points"),
    ],
)
def test_lengths_count_code_points(op: Operation, base: int, target: int) -> None:
    assert base_length(op) == base
    assert target_length(op) == target


@REPLAYABLE
@given(document_and_operation())
def test_target_length_matches_applied_length(pair: tuple[str, Operation]) -> None:
    text, op = pair

    assert base_length(op) == len(text)
    assert len(apply(text, op)) == target_length(op)


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        pytest.param([], True, id="empty"),
        pytest.param([7], True, id="retain"),
        pytest.param([2, 3], True, id="unnormalized retains"),
        pytest.param(["x"], False, id="insert"),
        pytest.param([1, -1], False, id="delete"),
    ],
)
def test_is_noop_only_for_retains(op: Operation, expected: bool) -> None:
    assert is_noop(op) is expected


# apply


@pytest.mark.parametrize(
    ("text", "op", "expected"),
    [
        pytest.param("", [], "", id="empty identity"),
        pytest.param("", ["hi"], "hi", id="insert into empty"),
        pytest.param("hello", [5], "hello", id="identity"),
        pytest.param("hello", [1, "X", -2, 2], "hXlo", id="splice"),
        pytest.param("hello", [-5], "", id="delete all"),
        pytest.param("hello", [5, "!"], "hello!", id="append"),
        pytest.param("a" + EMOJI + "b", [1, -1, 1], "ab", id="delete emoji"),
        pytest.param("e\u0301", [1, -1], "e", id="delete combining mark alone"),
        pytest.param(FAMILY, [1, -1, 1], "\U0001f469\U0001f467", id="delete zwj"),
        pytest.param("a\r\nb", [1, -2, "\n", 1], "a\nb", id="crlf to lf"),
    ],
)
def test_apply_examples(text: str, op: Operation, expected: str) -> None:
    assert apply(text, op) == expected


@pytest.mark.parametrize(
    ("text", "op", "fragments"),
    [
        pytest.param("hello", [7], ["part 0", "retain of 7", "position 0", "5-character document"], id="retain past end"),
        pytest.param("hello", [3, 4], ["part 1", "retain of 4", "position 3"], id="second retain past end"),
        pytest.param("hello", [2, -9], ["part 1", "delete of 9", "position 2"], id="delete past end"),
        pytest.param("hello", [3], ["base length 3", "5 characters"], id="too short"),
        pytest.param("", [1], ["retain of 1", "0-character document"], id="retain on empty"),
        pytest.param("ab", ["x"], ["base length 0", "2 characters"], id="insert only"),
    ],
)
def test_apply_rejects_length_mismatch(text: str, op: Operation, fragments: list[str]) -> None:
    with pytest.raises(InvalidOperation) as info:
        apply(text, op)

    assert info.value.kind is ErrorKind.LENGTH_MISMATCH
    for fragment in fragments:
        assert fragment in str(info.value)


# compose


@REPLAYABLE
@given(st.data())
def test_compose_matches_sequential_apply(data: st.DataObject) -> None:
    text, a = data.draw(document_and_operation())
    middle = apply(text, a)
    b = data.draw(operations(len(middle)))

    composed = compose(a, b)

    assert apply(text, composed) == apply(middle, b)
    assert normalize(composed) == composed


@REPLAYABLE
@given(st.data())
def test_compose_is_associative(data: st.DataObject) -> None:
    text, a = data.draw(document_and_operation())
    b = data.draw(operations(target_length(a)))
    c = data.draw(operations(target_length(b)))

    assert compose(compose(a, b), c) == compose(a, compose(b, c))


@REPLAYABLE
@given(document_and_operation())
def test_compose_with_identity_returns_op(pair: tuple[str, Operation]) -> None:
    text, op = pair
    before = normalize([len(text)])
    after = normalize([target_length(op)])

    assert compose(before, op) == op
    assert compose(op, after) == op


@REPLAYABLE
@given(st.data())
def test_compose_accepts_unnormalized_ops(data: st.DataObject) -> None:
    text = data.draw(documents())
    a = data.draw(raw_operations(len(text)))
    b = data.draw(raw_operations(target_length(a)))

    assert apply(text, compose(a, b)) == apply(apply(text, a), b)


def test_compose_insert_then_delete_cancels() -> None:
    assert compose([1, "xyz", 1], [2, -2, 1]) == [1, "x", 1]


def test_compose_rejects_length_mismatch() -> None:
    with pytest.raises(InvalidOperation) as info:
        compose([2, "x"], [2])

    assert info.value.kind is ErrorKind.LENGTH_MISMATCH
    assert "target length 3" in str(info.value)
    assert "base length 2" in str(info.value)


# transform


@REPLAYABLE
@given(concurrent_operations())
def test_transform_converges_on_random_concurrent_ops(case: tuple[str, Operation, Operation]) -> None:
    text, a, b = case

    a_prime, b_prime = transform(a, b)

    assert apply(apply(text, a), b_prime) == apply(apply(text, b), a_prime)


@REPLAYABLE
@given(concurrent_operations())
def test_transform_returns_normalized_ops(case: tuple[str, Operation, Operation]) -> None:
    _, a, b = case

    a_prime, b_prime = transform(a, b)

    assert normalize(a_prime) == a_prime
    assert normalize(b_prime) == b_prime


@REPLAYABLE
@given(concurrent_operations())
def test_transform_lengths_fit_the_diamond(case: tuple[str, Operation, Operation]) -> None:
    _, a, b = case

    a_prime, b_prime = transform(a, b)

    assert base_length(a_prime) == target_length(b)
    assert base_length(b_prime) == target_length(a)
    assert target_length(a_prime) == target_length(b_prime)


@REPLAYABLE
@given(document_and_operation())
def test_transform_with_identity_keeps_op(pair: tuple[str, Operation]) -> None:
    text, op = pair
    identity = normalize([len(text)])

    op_prime, identity_prime = transform(op, identity)
    identity_second, op_second = transform(identity, op)

    assert op_prime == op
    assert op_second == op
    assert is_noop(identity_prime)
    assert is_noop(identity_second)


@REPLAYABLE
@given(st.data())
def test_transform_sides_swap_except_ties(data: st.DataObject) -> None:
    # Transforming (b, a) gives the same ops as (a, b) when no insert shares a position.
    text = data.draw(documents())
    a = data.draw(operations(len(text)))
    b = data.draw(operations(len(text)))

    a_prime, b_prime = transform(a, b)
    b_swapped, a_swapped = transform(b, a)

    assert apply(apply(text, a), b_prime) == apply(apply(text, a), b_swapped) or _has_tie(a, b)
    assert apply(apply(text, b), a_swapped) == apply(apply(text, b), a_prime) or _has_tie(a, b)


def _insert_positions(op: Operation) -> set[int]:
    positions: set[int] = set()
    old = 0
    for part in op:
        if isinstance(part, str):
            positions.add(old)
        else:
            old += abs(part)
    return positions


def _has_tie(a: Operation, b: Operation) -> bool:
    return bool(_insert_positions(a) & _insert_positions(b))


@pytest.mark.parametrize(
    ("text", "a", "b", "expected"),
    [
        pytest.param("", ["A"], ["B"], "AB", id="empty document"),
        pytest.param("xy", [1, "A", 1], [1, "B", 1], "xABy", id="middle"),
        pytest.param("xy", [2, "A"], [2, "B"], "xyAB", id="end"),
        pytest.param("xy", ["A", 2], ["B", -1, 1], "ABy", id="insert before delete"),
        pytest.param(EMOJI, [1, "A"], [1, "B"], EMOJI + "AB", id="after emoji"),
    ],
)
def test_transform_puts_first_op_insert_first_on_tie(text: str, a: Operation, b: Operation, expected: str) -> None:
    a_prime, b_prime = transform(a, b)

    assert apply(apply(text, a), b_prime) == expected
    assert apply(apply(text, b), a_prime) == expected


@pytest.mark.parametrize(
    ("text", "a", "b", "expected"),
    [
        pytest.param("abcdef", [1, -3, 2], [2, -3, 1], "af", id="overlapping deletes"),
        pytest.param("abcdef", [1, -4, 1], [2, -1, 3], "af", id="delete inside delete"),
        pytest.param("abcdef", [-6], [-6], "", id="same delete"),
        pytest.param("abcdef", [1, -4, 1], [3, "X", 3], "aXf", id="insert inside deleted range"),
        pytest.param("abc", [-3], [3, "X"], "X", id="insert at end of deleted range"),
        pytest.param("abc", [-3], ["X", 3], "X", id="insert at start of deleted range"),
    ],
)
def test_transform_handles_delete_overlaps(text: str, a: Operation, b: Operation, expected: str) -> None:
    a_prime, b_prime = transform(a, b)

    assert apply(apply(text, a), b_prime) == expected
    assert apply(apply(text, b), a_prime) == expected


def test_transform_rejects_different_base_lengths() -> None:
    with pytest.raises(InvalidOperation) as info:
        transform([3, "x"], [2])

    assert info.value.kind is ErrorKind.LENGTH_MISMATCH
    assert "base lengths 3 and 2" in str(info.value)


@REPLAYABLE
@given(st.data())
def test_transform_through_committed_sequence_converges(data: st.DataObject) -> None:
    # The server rebases a late edit over every op committed since its base, and
    # the client rebases each committed op over its own pending edit.
    text = data.draw(documents())
    late = data.draw(operations(len(text)))
    server = text
    client = apply(text, late)
    pending = late
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        committed = data.draw(operations(len(server)))
        server = apply(server, committed)
        committed_prime, pending = transform(committed, pending)
        client = apply(client, committed_prime)

    assert apply(server, pending) == client


# invert


@REPLAYABLE
@given(document_and_operation())
def test_invert_round_trip_restores_document(pair: tuple[str, Operation]) -> None:
    text, op = pair

    inverse = invert(op, text)

    assert apply(apply(text, op), inverse) == text
    assert normalize(inverse) == inverse


@REPLAYABLE
@given(document_and_operation())
def test_invert_twice_returns_op(pair: tuple[str, Operation]) -> None:
    text, op = pair

    assert invert(invert(op, text), apply(text, op)) == op


def test_invert_restores_deleted_emoji() -> None:
    assert invert([1, -1, "x"], "a" + EMOJI) == [1, EMOJI, -1]


def test_invert_rejects_wrong_document() -> None:
    with pytest.raises(InvalidOperation) as info:
        invert([2, -4], "abc")

    assert info.value.kind is ErrorKind.LENGTH_MISMATCH
    assert "delete of 4" in str(info.value)


# from_splice


@pytest.mark.parametrize(
    ("length", "pos", "count", "text", "expected"),
    [
        pytest.param(0, 0, 0, "", [], id="empty noop"),
        pytest.param(0, 0, 0, "hi", ["hi"], id="insert into empty"),
        pytest.param(5, 0, 0, "x", ["x", 5], id="insert at start"),
        pytest.param(5, 5, 0, "x", [5, "x"], id="insert at end"),
        pytest.param(5, 1, 2, "x", [1, "x", -2, 2], id="replace"),
        pytest.param(5, 0, 5, "", [-5], id="delete all"),
        pytest.param(5, 2, 0, "", [5], id="noop keeps retain"),
    ],
)
def test_from_splice_builds_normalized_op(length: int, pos: int, count: int, text: str, expected: Operation) -> None:
    assert from_splice(length, pos, count, text) == expected


@pytest.mark.parametrize(
    ("length", "pos", "count", "text", "kind", "fragments"),
    [
        pytest.param(5, 6, 0, "", ErrorKind.OUT_OF_RANGE, ["position 6", "5-character document"], id="position past end"),
        pytest.param(5, -1, 0, "", ErrorKind.OUT_OF_RANGE, ["position -1"], id="negative position"),
        pytest.param(5, 3, 3, "", ErrorKind.OUT_OF_RANGE, ["delete of 3", "position 3"], id="delete past end"),
        pytest.param(5, 0, -1, "", ErrorKind.OUT_OF_RANGE, ["delete count -1"], id="negative delete"),
        pytest.param(-1, 0, 0, "", ErrorKind.OUT_OF_RANGE, ["length -1"], id="negative length"),
        pytest.param(5, 0, 0, "a\ud800", ErrorKind.LONE_SURROGATE, ["U+D800", "offset 1"], id="lone surrogate"),
    ],
)
def test_from_splice_rejects_out_of_range(
    length: int, pos: int, count: int, text: str, kind: ErrorKind, fragments: list[str]
) -> None:
    with pytest.raises(InvalidOperation) as info:
        from_splice(length, pos, count, text)

    assert info.value.kind is kind
    for fragment in fragments:
        assert fragment in str(info.value)


@REPLAYABLE
@given(st.data())
def test_from_splice_matches_string_splice(data: st.DataObject) -> None:
    text = data.draw(documents())
    pos = data.draw(st.integers(min_value=0, max_value=len(text)))
    count = data.draw(st.integers(min_value=0, max_value=len(text) - pos))
    inserted = data.draw(st.one_of(st.just(""), insert_texts()))

    op = from_splice(len(text), pos, count, inserted)

    assert apply(text, op) == text[:pos] + inserted + text[pos + count :]
    assert check(op) == op
