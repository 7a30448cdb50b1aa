"""Operational transformation for plain text: operations, their algebra and cursors.

The package does no I/O and uses only the standard library. See ``ot.operation``
for the operation format.
"""

from __future__ import annotations

from ot.cursor import Bias, Selection, transform_position, transform_selection
from ot.errors import ErrorKind, InvalidOperation
from ot.operation import (
    MAX_PART_LENGTH,
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

__all__ = [
    "MAX_PART_LENGTH",
    "Bias",
    "ErrorKind",
    "InvalidOperation",
    "Operation",
    "Selection",
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
    "transform_position",
    "transform_selection",
]
