"""The exception raised for every invalid operation, position or length in ``ot``."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ErrorKind", "InvalidOperation"]


class ErrorKind(StrEnum):
    """Stable code for the reason an input was rejected.

    The values are part of the wire format of the shared test vectors, so a
    second implementation can assert the same reason without matching messages.
    """

    NOT_A_LIST = "not_a_list"
    INVALID_PART = "invalid_part"
    EMPTY_PART = "empty_part"
    PART_TOO_LONG = "part_too_long"
    LONE_SURROGATE = "lone_surrogate"
    LENGTH_MISMATCH = "length_mismatch"
    OUT_OF_RANGE = "out_of_range"


class InvalidOperation(ValueError):
    """An operation, position or splice that does not fit its document or is malformed.

    ``str(error)`` is a short factual message naming the offending value and,
    for parts of an operation, its index. ``kind`` is the stable reason code.
    """

    kind: ErrorKind

    def __init__(self, message: str, kind: ErrorKind) -> None:
        super().__init__(message)
        self.kind = kind
