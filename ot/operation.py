"""Text operations in the compact list form, and their algebra.

An operation is a list of parts that walks the whole document from start to end:

* a positive int ``n`` retains (keeps) the next ``n`` code points,
* a non-empty str inserts that text at the current position,
* a negative int ``-n`` deletes the next ``n`` code points.

Lengths and positions count Unicode code points, as Python ``str`` indexing
does, so an emoji outside the Basic Multilingual Plane counts as one. An
operation must span the whole document: its base length (retains plus deletes)
equals the length of the document it applies to, and trailing retains are kept.
The identity operation of the empty document is ``[]``.

The normalized form has no zero or empty parts, merges adjacent parts of the
same kind, and puts an insert before an adjacent delete, so operations with the
same effect have one form. ``check`` returns it, and every function here returns
normalized operations.

The functions after ``check`` take operations whose parts are valid, as ``check``
returns them, and skip type checks for speed. They still raise
``InvalidOperation`` when lengths do not fit. Tie results in ``transform`` and
``transform_position`` assume normalized input.
"""

from __future__ import annotations

import re
from typing import TypeAlias

from ot.errors import ErrorKind, InvalidOperation

__all__ = [
    "MAX_PART_LENGTH",
    "Operation",
    "apply",
    "base_length",
    "check",
    "compose",
    "from_splice",
    "invert",
    "is_noop",
    "normalize",
    "target_length",
    "transform",
]

Operation: TypeAlias = list[int | str]

MAX_PART_LENGTH = 2**31
"""Largest absolute value of a retain or delete that ``check`` accepts."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


# Builders. Each appends one part to an operation under construction and keeps
# it normalized, so the loops below never need a separate normalize pass.


def _retain(ops: Operation, count: int) -> None:
    if ops:
        last = ops[-1]
        if not isinstance(last, str) and last > 0:
            ops[-1] = last + count
            return
    ops.append(count)


def _insert(ops: Operation, text: str) -> None:
    if ops:
        last = ops[-1]
        if isinstance(last, str):
            ops[-1] = last + text
            return
        if last < 0:
            # An insert next to a delete goes first, so equal operations have one form.
            if len(ops) > 1:
                before = ops[-2]
                if isinstance(before, str):
                    ops[-2] = before + text
                    return
            ops[-1] = text
            ops.append(last)
            return
    ops.append(text)


def _delete(ops: Operation, count: int) -> None:
    if ops:
        last = ops[-1]
        if not isinstance(last, str) and last < 0:
            ops[-1] = last - count
            return
    ops.append(-count)


def _find_lone_surrogate(text: str) -> int:
    """Return the index of the first lone surrogate code point in ``text``, or -1."""
    if text.isascii():
        return -1
    match = _LONE_SURROGATE.search(text)
    return -1 if match is None else match.start()


def check(op: object) -> Operation:
    """Validate the shape and types of ``op`` and return its normalized copy.

    Law: ``check(normalize(op)) == normalize(op)`` for every valid ``op``.
    Only the shape is checked, because the document is not known here, and
    ``apply`` checks the lengths.

    Raises:
        InvalidOperation: ``op`` is not a list, or a part is not a non-zero int
            within ``MAX_PART_LENGTH`` or a non-empty str without lone surrogates.
            ``bool`` parts are rejected although ``bool`` is an ``int`` subclass.
    """
    if not isinstance(op, list):
        raise InvalidOperation(
            f"operation must be a list, got {type(op).__name__}", ErrorKind.NOT_A_LIST
        )

    result: Operation = []
    for index, part in enumerate(op):
        if type(part) is int:
            if part == 0:
                raise InvalidOperation(
                    f"part {index} is 0, but a retain or delete must be non-zero",
                    ErrorKind.EMPTY_PART,
                )
            if part > MAX_PART_LENGTH or part < -MAX_PART_LENGTH:
                raise InvalidOperation(
                    f"part {index} is {part}, beyond the limit of 2**31",
                    ErrorKind.PART_TOO_LONG,
                )
            if part > 0:
                _retain(result, part)
            else:
                _delete(result, -part)
        elif type(part) is str:
            if not part:
                raise InvalidOperation(
                    f"part {index} is an empty string, but an insert must be non-empty",
                    ErrorKind.EMPTY_PART,
                )
            offset = _find_lone_surrogate(part)
            if offset >= 0:
                raise InvalidOperation(
                    f"part {index} contains a lone surrogate U+{ord(part[offset]):04X} "
                    f"at offset {offset}",
                    ErrorKind.LONE_SURROGATE,
                )
            _insert(result, part)
        else:
            raise InvalidOperation(
                f"part {index} is {type(part).__name__} {part!r}, "
                "but must be an int or a str",
                ErrorKind.INVALID_PART,
            )
    return result


def normalize(op: Operation) -> Operation:
    """Return the normalized form of ``op``, which must have valid parts.

    Law: ``apply(s, normalize(op)) == apply(s, op)`` and
    ``normalize(normalize(op)) == normalize(op)``.
    """
    result: Operation = []
    for part in op:
        if isinstance(part, str):
            if part:
                _insert(result, part)
        elif part > 0:
            _retain(result, part)
        elif part < 0:
            _delete(result, -part)
    return result


def base_length(op: Operation) -> int:
    """Return the length of the document that ``op`` applies to (retains plus deletes)."""
    length = 0
    for part in op:
        if not isinstance(part, str):
            length += part if part > 0 else -part
    return length


def target_length(op: Operation) -> int:
    """Return the length of the document after ``op`` (retains plus inserts)."""
    length = 0
    for part in op:
        if isinstance(part, str):
            length += len(part)
        elif part > 0:
            length += part
    return length


def is_noop(op: Operation) -> bool:
    """Return whether ``op`` leaves every document unchanged (only retains, or empty)."""
    for part in op:
        if isinstance(part, str) or part < 0:
            return False
    return True


def apply(text: str, op: Operation) -> str:
    """Apply ``op`` to ``text`` and return the new text.

    Law: ``len(apply(text, op)) == target_length(op)``.

    Raises:
        InvalidOperation: ``base_length(op) != len(text)``.
    """
    size = len(text)
    pieces: list[str] = []
    position = 0
    for index, part in enumerate(op):
        if isinstance(part, str):
            pieces.append(part)
        elif part > 0:
            end = position + part
            if end > size:
                raise InvalidOperation(
                    f"part {index}: retain of {part} at position {position} goes past "
                    f"the end of a {size}-character document",
                    ErrorKind.LENGTH_MISMATCH,
                )
            pieces.append(text[position:end])
            position = end
        else:
            end = position - part
            if end > size:
                raise InvalidOperation(
                    f"part {index}: delete of {-part} at position {position} goes past "
                    f"the end of a {size}-character document",
                    ErrorKind.LENGTH_MISMATCH,
                )
            position = end
    if position != size:
        raise InvalidOperation(
            f"operation has base length {position} but the document has "
            f"{size} characters",
            ErrorKind.LENGTH_MISMATCH,
        )
    return "".join(pieces)


def compose(a: Operation, b: Operation) -> Operation:
    """Combine ``a`` then ``b`` into one operation.

    Law: ``apply(apply(s, a), b) == apply(s, compose(a, b))``.

    The loop walks the document between the two operations: ``a``'s output
    (its retains and inserts) is ``b``'s input (its retains and deletes).

    Raises:
        InvalidOperation: ``target_length(a) != base_length(b)``.
    """
    result: Operation = []
    count_a, count_b = len(a), len(b)
    index_a = index_b = 0
    # The current part of each operation, possibly partly consumed. 0 marks an
    # exhausted operation, which is safe because valid parts are never 0.
    x: int | str = a[0] if count_a else 0
    y: int | str = b[0] if count_b else 0

    while True:
        # Text that a deletes never reaches b, so the delete passes through.
        if not isinstance(x, str) and x < 0:
            _delete(result, -x)
            index_a += 1
            x = a[index_a] if index_a < count_a else 0
            continue
        # Text that b inserts did not exist for a, so the insert passes through.
        if isinstance(y, str):
            _insert(result, y)
            index_b += 1
            y = b[index_b] if index_b < count_b else 0
            continue
        if x == 0 and y == 0:
            break
        if x == 0 or y == 0:
            raise InvalidOperation(
                f"cannot compose: the first operation has target length "
                f"{target_length(a)} but the second has base length {base_length(b)}",
                ErrorKind.LENGTH_MISMATCH,
            )

        if isinstance(x, str):
            size = len(x)
            if y > 0:
                # b keeps text that a inserted.
                if size <= y:
                    _insert(result, x)
                    y -= size
                    x = 0
                else:
                    _insert(result, x[:y])
                    x = x[y:]
                    y = 0
            else:
                # b deletes text that a inserted, so neither reaches the result.
                if size <= -y:
                    y += size
                    x = 0
                else:
                    x = x[-y:]
                    y = 0
        elif y > 0:
            count = x if x < y else y
            _retain(result, count)
            x -= count
            y -= count
        else:
            count = x if x < -y else -y
            _delete(result, count)
            x -= count
            y += count

        if x == 0:
            index_a += 1
            x = a[index_a] if index_a < count_a else 0
        if y == 0:
            index_b += 1
            y = b[index_b] if index_b < count_b else 0

    return result


def transform(a: Operation, b: Operation) -> tuple[Operation, Operation]:
    """Transform concurrent ``a`` and ``b`` against each other.

    Law (convergence): ``apply(apply(s, a), b2) == apply(apply(s, b), a2)``
    where ``a2, b2 = transform(a, b)``::

                 s
              a / \\ b
               /   \\
              v     v
          s·a         s·b
              \\     /
            b2 \\   / a2
                v v
                 s'

    ``a2`` is ``a`` rewritten to apply after ``b``, and ``b2`` is ``b``
    rewritten to apply after ``a``.

    Tie rule: when both insert at the same position, ``a``'s text comes first.
    The server passes the already committed operation as ``a``, so committed
    text stays ahead of a late insert at the same place. Because the normalized
    form puts an insert before an adjacent delete, an insert just after a
    deleted range ties at the start of that range. For the same reason,
    transforming over ``compose(x, y)`` can order tied inserts differently from
    transforming over ``x`` and then ``y``, though each result converges.

    Raises:
        InvalidOperation: ``base_length(a) != base_length(b)``.
    """
    a_prime: Operation = []
    b_prime: Operation = []
    count_a, count_b = len(a), len(b)
    index_a = index_b = 0
    # The current part of each operation, possibly partly consumed. 0 marks an
    # exhausted operation, which is safe because valid parts are never 0.
    x: int | str = a[0] if count_a else 0
    y: int | str = b[0] if count_b else 0

    while True:
        # Checking a's insert first is what puts a's text first on a tie.
        if isinstance(x, str):
            _insert(a_prime, x)
            _retain(b_prime, len(x))
            index_a += 1
            x = a[index_a] if index_a < count_a else 0
            continue
        if isinstance(y, str):
            _retain(a_prime, len(y))
            _insert(b_prime, y)
            index_b += 1
            y = b[index_b] if index_b < count_b else 0
            continue
        if x == 0 and y == 0:
            break
        if x == 0 or y == 0:
            raise InvalidOperation(
                f"cannot transform: the operations have base lengths "
                f"{base_length(a)} and {base_length(b)}",
                ErrorKind.LENGTH_MISMATCH,
            )

        if x > 0:
            if y > 0:
                count = x if x < y else y
                _retain(a_prime, count)
                _retain(b_prime, count)
                x -= count
                y -= count
            else:
                # Only b deletes this text, so b2 still has to delete it after a.
                count = x if x < -y else -y
                _delete(b_prime, count)
                x -= count
                y += count
        elif y > 0:
            # Only a deletes this text, so a2 still has to delete it after b.
            count = -x if -x < y else y
            _delete(a_prime, count)
            x += count
            y -= count
        else:
            # Both delete the same text, so neither transformed op deletes it again.
            count = x if x > y else y
            x -= count
            y -= count

        if x == 0:
            index_a += 1
            x = a[index_a] if index_a < count_a else 0
        if y == 0:
            index_b += 1
            y = b[index_b] if index_b < count_b else 0

    return a_prime, b_prime


def invert(op: Operation, text: str) -> Operation:
    """Return the operation that undoes ``op``, where ``text`` is the document before ``op``.

    Law: ``apply(apply(text, op), invert(op, text)) == text``.

    Raises:
        InvalidOperation: ``base_length(op) != len(text)``.
    """
    size = len(text)
    result: Operation = []
    position = 0
    for index, part in enumerate(op):
        if isinstance(part, str):
            _delete(result, len(part))
        elif part > 0:
            position += part
            if position > size:
                raise InvalidOperation(
                    f"part {index}: retain of {part} at position {position - part} goes "
                    f"past the end of a {size}-character document",
                    ErrorKind.LENGTH_MISMATCH,
                )
            _retain(result, part)
        else:
            end = position - part
            if end > size:
                raise InvalidOperation(
                    f"part {index}: delete of {-part} at position {position} goes past "
                    f"the end of a {size}-character document",
                    ErrorKind.LENGTH_MISMATCH,
                )
            _insert(result, text[position:end])
            position = end
    if position != size:
        raise InvalidOperation(
            f"operation has base length {position} but the document has "
            f"{size} characters",
            ErrorKind.LENGTH_MISMATCH,
        )
    return result


def from_splice(doc_length: int, pos: int, delete_count: int, text: str) -> Operation:
    """Build the normalized operation that deletes ``delete_count`` code points at ``pos`` and inserts ``text`` there.

    Law: ``apply(s, from_splice(len(s), pos, n, t)) == s[:pos] + t + s[pos + n:]``.

    Raises:
        InvalidOperation: ``pos`` or ``delete_count`` is negative, the deleted
            range ends past ``doc_length``, or ``text`` contains a lone surrogate.
    """
    if doc_length < 0:
        raise InvalidOperation(
            f"document length {doc_length} is negative", ErrorKind.OUT_OF_RANGE
        )
    if pos < 0 or pos > doc_length:
        raise InvalidOperation(
            f"splice position {pos} is outside a {doc_length}-character document",
            ErrorKind.OUT_OF_RANGE,
        )
    if delete_count < 0:
        raise InvalidOperation(
            f"splice delete count {delete_count} is negative", ErrorKind.OUT_OF_RANGE
        )
    if pos + delete_count > doc_length:
        raise InvalidOperation(
            f"splice delete of {delete_count} at position {pos} goes past the end "
            f"of a {doc_length}-character document",
            ErrorKind.OUT_OF_RANGE,
        )
    offset = _find_lone_surrogate(text)
    if offset >= 0:
        raise InvalidOperation(
            f"splice text contains a lone surrogate U+{ord(text[offset]):04X} "
            f"at offset {offset}",
            ErrorKind.LONE_SURROGATE,
        )

    result: Operation = []
    if pos:
        result.append(pos)
    if text:
        result.append(text)
    if delete_count:
        result.append(-delete_count)
    rest = doc_length - pos - delete_count
    if rest:
        _retain(result, rest)
    return result
