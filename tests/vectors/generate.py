"""Generate the shared OT test vectors in this folder.

Run from the repository root after a deliberate change to the ``ot`` behaviour:

    PYTHONPATH=. python tests/vectors/generate.py

Each file has hand-written cases, whose expected values are written out here,
followed by cases drawn from a fixed seed whose expected values come from the
Python ``ot`` package. The output is deterministic, and
``tests/ot/test_vectors.py`` fails when the committed files differ from it.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path
from typing import Any, Callable

from ot import (
    MAX_PART_LENGTH,
    Bias,
    InvalidOperation,
    Operation,
    apply,
    base_length,
    check,
    compose,
    invert,
    normalize,
    target_length,
    transform,
    transform_position,
)

__all__ = ["FILES", "VECTOR_DIR", "build_files", "render"]

VECTOR_DIR = Path(__file__).resolve().parent
SEED = 20240601
GENERATED_PER_FILE = 50

Case = dict[str, Any]

EMOJI = "\U0001f600"
TECHNOLOGIST = "\U0001f469\u200d\U0001f4bb"  # woman technologist, a ZWJ sequence
CLUSTERS = (
    "a",
    "b",
    "c",
    " ",
    "\n",
    "\r\n",
    EMOJI,
    TECHNOLOGIST,
    "\U0001f1eb\U0001f1f7",  # flag of France, a regional indicator pair
    "e\u0301",  # e with a combining acute accent
    "\u00e9",
    "\u6f22\u5b57",
    "\u05e9\u05dc\u05d5\u05dd",
)


# Random inputs


def _random_text(rng: random.Random, max_clusters: int) -> str:
    return "".join(rng.choice(CLUSTERS) for _ in range(rng.randint(0, max_clusters)))


def _random_insert(rng: random.Random) -> str:
    return "".join(rng.choice(CLUSTERS) for _ in range(rng.randint(1, 3)))


def _random_raw_op(rng: random.Random, length: int) -> Operation:
    parts: Operation = []
    remaining = length
    while remaining > 0:
        roll = rng.random()
        if roll < 0.25:
            parts.append(_random_insert(rng))
            continue
        count = rng.randint(1, remaining)
        parts.append(count if roll < 0.65 else -count)
        remaining -= count
    if rng.random() < 0.3:
        parts.append(_random_insert(rng))
    return parts


def _random_op(rng: random.Random, length: int) -> Operation:
    return normalize(_random_raw_op(rng, length))


def _error_kind(call: Callable[[], object]) -> str:
    try:
        call()
    except InvalidOperation as error:
        return error.kind.value
    raise AssertionError("expected InvalidOperation")


# Files


def _check_file(rng: random.Random) -> dict[str, Any]:
    cases: list[Case] = [
        {"name": "empty", "op": [], "expected": []},
        {"name": "adjacent retains merge", "op": [2, 3], "expected": [5]},
        {"name": "adjacent inserts merge", "op": ["a", "b"], "expected": ["ab"]},
        {"name": "adjacent deletes merge", "op": [-1, -2], "expected": [-3]},
        {"name": "insert moves before delete", "op": [-2, "x"], "expected": ["x", -2]},
        {"name": "inserts around delete merge", "op": ["a", -2, "b", -1], "expected": ["ab", -3]},
        {"name": "trailing retain kept", "op": [3, -1, 2], "expected": [3, -1, 2]},
        {"name": "part at the limit", "op": [MAX_PART_LENGTH], "expected": [MAX_PART_LENGTH]},
    ]
    for number in range(GENERATED_PER_FILE):
        op = _random_raw_op(rng, len(_random_text(rng, 8)))
        cases.append({"name": f"generated {number}", "op": op, "expected": check(op)})
    return {
        "description": "check(op) validates op and returns its normalized form.",
        "cases": cases,
    }


def _apply_file(rng: random.Random) -> dict[str, Any]:
    cases: list[Case] = [
        {"name": "empty document identity", "doc": "", "op": [], "expected": ""},
        {"name": "insert into empty document", "doc": "", "op": ["h\u00e9llo"], "expected": "h\u00e9llo"},
        {"name": "retain all", "doc": "abc", "op": [3], "expected": "abc"},
        {"name": "delete all", "doc": "abc", "op": [-3], "expected": ""},
        {"name": "replace middle", "doc": "hello", "op": [1, "X", -2, 2], "expected": "hXlo"},
        {"name": "delete emoji counts one", "doc": "a" + EMOJI + "b", "op": [1, -1, 1], "expected": "ab"},
        {"name": "append after emoji", "doc": EMOJI, "op": [1, "!"], "expected": EMOJI + "!"},
        {
            "name": "delete zwj inside sequence",
            "doc": TECHNOLOGIST,
            "op": [1, -1, 1],
            "expected": "\U0001f469\U0001f4bb",
        },
        {"name": "delete combining mark only", "doc": "e\u0301", "op": [1, -1], "expected": "e"},
        {"name": "crlf to lf", "doc": "a\r\nb", "op": [1, "\n", -2, 1], "expected": "a\nb"},
        {"name": "cjk insert", "doc": "\u6f22\u5b57", "op": [1, "\u4e2d", 1], "expected": "\u6f22\u4e2d\u5b57"},
        {"name": "unnormalized parts", "doc": "abc", "op": [1, 1, -1, "x", "y"], "expected": "abxy"},
    ]
    for number in range(GENERATED_PER_FILE):
        doc = _random_text(rng, 10)
        op = _random_op(rng, len(doc))
        cases.append({"name": f"generated {number}", "doc": doc, "op": op, "expected": apply(doc, op)})
    return {
        "description": "apply(doc, op) returns the document after op.",
        "cases": cases,
    }


def _compose_file(rng: random.Random) -> dict[str, Any]:
    cases: list[Case] = [
        {"name": "empty document", "doc": "", "a": [], "b": [], "expected": []},
        {
            "name": "delete cancels insert",
            "doc": "ab",
            "a": [1, "xyz", 1],
            "b": [2, -2, 1],
            "expected": [1, "x", 1],
        },
        {"name": "insert after delete all", "doc": "abc", "a": [-3], "b": ["xyz"], "expected": ["xyz", -3]},
        {
            "name": "delete emoji before inserted emoji",
            "doc": EMOJI,
            "a": [1, "\U0001f44d"],
            "b": [-1, 1],
            "expected": ["\U0001f44d", -1],
        },
        {"name": "insert splits insert", "doc": "", "a": ["abc"], "b": [1, "X", 2], "expected": ["aXbc"]},
        {"name": "identity then op", "doc": "ab", "a": [2], "b": [1, -1], "expected": [1, -1]},
    ]
    for number in range(GENERATED_PER_FILE):
        doc = _random_text(rng, 10)
        a = _random_op(rng, len(doc))
        b = _random_op(rng, target_length(a))
        cases.append({"name": f"generated {number}", "doc": doc, "a": a, "b": b, "expected": compose(a, b)})
    return {
        "description": (
            "compose(a, b) returns one op with apply(doc, compose(a, b)) == apply(apply(doc, a), b)."
        ),
        "cases": cases,
    }


def _transform_case(name: str, doc: str, a: Operation, b: Operation, a2: Operation, b2: Operation, result: str) -> Case:
    return {"name": name, "doc": doc, "a": a, "b": b, "expected_a": a2, "expected_b": b2, "expected_doc": result}


def _transform_file(rng: random.Random) -> dict[str, Any]:
    cases: list[Case] = [
        _transform_case("tie in empty document", "", ["A"], ["B"], ["A", 1], [1, "B"], "AB"),
        _transform_case("tie in middle", "xy", [1, "A", 1], [1, "B", 1], [1, "A", 2], [2, "B", 1], "xABy"),
        _transform_case("tie at end", "xy", [2, "A"], [2, "B"], [2, "A", 1], [3, "B"], "xyAB"),
        _transform_case("tie after emoji", EMOJI, [1, "A"], [1, "B"], [1, "A", 1], [2, "B"], EMOJI + "AB"),
        _transform_case("tie with delete", "xy", ["A", 2], ["B", -1, 1], ["A", 2], [1, "B", -1, 1], "ABy"),
        _transform_case("overlapping deletes", "abcdef", [1, -3, 2], [2, -3, 1], [1, -1, 1], [1, -1, 1], "af"),
        _transform_case("same delete", "abc", [-3], [-3], [], [], ""),
        _transform_case(
            "insert inside deleted range",
            "abcdef",
            [1, -4, 1],
            [3, "X", 3],
            [1, -2, 1, -2, 1],
            [1, "X", 1],
            "aXf",
        ),
        _transform_case("identity against insert", "ab", [2], [1, "X", 1], [3], [1, "X", 1], "aXb"),
    ]
    for number in range(GENERATED_PER_FILE):
        doc = _random_text(rng, 10)
        a = _random_op(rng, len(doc))
        b = _random_op(rng, len(doc))
        if number % 3 == 0:
            # Force a tie, which independent random ops rarely produce.
            position = rng.randint(0, len(doc))
            a = normalize([position, _random_insert(rng), len(doc) - position])
            b = normalize([position, _random_insert(rng), len(doc) - position])
        a2, b2 = transform(a, b)
        result = apply(apply(doc, a), b2)
        cases.append(_transform_case(f"generated {number}", doc, a, b, a2, b2, result))
    return {
        "description": (
            "transform(a, b) returns (expected_a, expected_b) with "
            "apply(apply(doc, a), expected_b) == apply(apply(doc, b), expected_a) == expected_doc. "
            "When both insert at one position, a's text comes first."
        ),
        "cases": cases,
    }


def _invert_file(rng: random.Random) -> dict[str, Any]:
    cases: list[Case] = [
        {"name": "empty document", "doc": "", "op": [], "expected": []},
        {"name": "restore delete", "doc": "abc", "op": [1, -1, 1], "expected": [1, "b", 1]},
        {"name": "restore emoji", "doc": "a" + EMOJI, "op": [1, "x", -1], "expected": [1, EMOJI, -1]},
        {"name": "remove insert", "doc": "abc", "op": ["X", 3], "expected": [-1, 3]},
        {"name": "insert into empty", "doc": "", "op": ["hi"], "expected": [-2]},
    ]
    for number in range(GENERATED_PER_FILE):
        doc = _random_text(rng, 10)
        op = _random_op(rng, len(doc))
        cases.append({"name": f"generated {number}", "doc": doc, "op": op, "expected": invert(op, doc)})
    return {
        "description": (
            "invert(op, doc) returns the op that undoes op, where doc is the document before op: "
            "apply(apply(doc, op), expected) == doc."
        ),
        "cases": cases,
    }


def _position_case(name: str, op: Operation, pos: int, bias: str, expected: int) -> Case:
    return {"name": name, "op": op, "pos": pos, "bias": bias, "expected": expected}


def _transform_position_file(rng: random.Random) -> dict[str, Any]:
    cases: list[Case] = [
        _position_case("empty op", [], 0, "before", 0),
        _position_case("insert into empty before", ["ab"], 0, "before", 0),
        _position_case("insert into empty after", ["ab"], 0, "after", 2),
        _position_case("insert at position before", [2, "xy", 3], 2, "before", 2),
        _position_case("insert at position after", [2, "xy", 3], 2, "after", 4),
        _position_case("insert before position", [2, "xy", 3], 3, "before", 5),
        _position_case("append at end after", [5, "x"], 5, "after", 6),
        _position_case("inside delete collapses", [1, -3, 1], 3, "before", 1),
        _position_case("end of delete collapses", [1, -3, 1], 4, "after", 1),
        _position_case("after delete shifts", [1, -3, 1], 5, "before", 2),
        _position_case("replaced range collapses after insert", [1, "xy", -3, 1], 2, "before", 3),
        _position_case("start of replaced range after", [1, "xy", -3, 1], 1, "after", 3),
        _position_case("emoji counts one", [1, EMOJI, 2], 2, "before", 3),
    ]
    for number in range(GENERATED_PER_FILE):
        length = len(_random_text(rng, 10))
        op = _random_op(rng, length)
        pos = rng.randint(0, length)
        bias = rng.choice((Bias.BEFORE, Bias.AFTER))
        expected = transform_position(pos, op, bias)
        cases.append(_position_case(f"generated {number}", op, pos, bias.value, expected))
    return {
        "description": (
            "transform_position(pos, op, bias) returns where pos lands after op. "
            "bias is 'before' or 'after' and decides the side of text inserted exactly at pos."
        ),
        "cases": cases,
    }


def _invalid_file(rng: random.Random) -> dict[str, Any]:
    def check_case(name: str, op: object, error: str) -> Case:
        return {"name": name, "function": "check", "op": op, "error": error}

    cases: list[Case] = [
        check_case("object instead of list", {"retain": 1}, "not_a_list"),
        check_case("null instead of list", None, "not_a_list"),
        check_case("string instead of list", "abc", "not_a_list"),
        check_case("boolean part", [True], "invalid_part"),
        check_case("float part", [1.5], "invalid_part"),
        check_case("null part", [2, None], "invalid_part"),
        check_case("object part", [{"insert": "x"}], "invalid_part"),
        check_case("nested empty list", [[]], "invalid_part"),
        check_case("zero part", [3, 0, 2], "empty_part"),
        check_case("empty insert", [1, ""], "empty_part"),
        check_case("retain beyond limit", [MAX_PART_LENGTH + 1], "part_too_long"),
        check_case("delete beyond limit", [-(MAX_PART_LENGTH + 1)], "part_too_long"),
        check_case("lone high surrogate", ["\ud800"], "lone_surrogate"),
        check_case("lone low surrogate", [1, "ab\udfff"], "lone_surrogate"),
        {"name": "apply retain past end", "function": "apply", "doc": "hello", "op": [7], "error": "length_mismatch"},
        {"name": "apply too short", "function": "apply", "doc": "hello", "op": [3], "error": "length_mismatch"},
        {"name": "apply emoji counts one", "function": "apply", "doc": EMOJI, "op": [2], "error": "length_mismatch"},
        {"name": "compose length mismatch", "function": "compose", "a": [2, "x"], "b": [2], "error": "length_mismatch"},
        {"name": "transform length mismatch", "function": "transform", "a": [3], "b": [2], "error": "length_mismatch"},
        {"name": "invert wrong document", "function": "invert", "doc": "abc", "op": [2, -4], "error": "length_mismatch"},
        {"name": "position past end", "function": "transform_position", "op": [3], "pos": 4, "error": "out_of_range"},
        {"name": "negative position", "function": "transform_position", "op": [3], "pos": -1, "error": "out_of_range"},
        {
            "name": "splice past end",
            "function": "from_splice",
            "doc_length": 5,
            "pos": 6,
            "delete_count": 0,
            "text": "",
            "error": "out_of_range",
        },
        {
            "name": "splice delete past end",
            "function": "from_splice",
            "doc_length": 5,
            "pos": 3,
            "delete_count": 3,
            "text": "",
            "error": "out_of_range",
        },
    ]

    bad_parts: list[object] = [True, False, 0.5, None, 0, "", [], {}, MAX_PART_LENGTH + 1, "x\udc00"]
    for number in range(GENERATED_PER_FILE):
        doc = _random_text(rng, 8)
        op = _random_op(rng, len(doc))
        variant = number % 4
        if variant == 0:
            broken: list[object] = list(op)
            broken.insert(rng.randint(0, len(broken)), rng.choice(bad_parts))
            case: Case = {"function": "check", "op": broken, "error": _error_kind(lambda: check(broken))}
        elif variant == 1:
            wrong_doc = doc + rng.choice(CLUSTERS) if rng.random() < 0.5 or not doc else doc[:-1]
            case = {"function": "apply", "doc": wrong_doc, "op": op}
            case["error"] = _error_kind(lambda: apply(wrong_doc, op))
        elif variant == 2:
            other = _random_op(rng, base_length(op) + rng.randint(1, 3))
            case = {"function": "transform", "a": op, "b": other}
            case["error"] = _error_kind(lambda: transform(op, other))
        else:
            other = _random_op(rng, target_length(op) + rng.randint(1, 3))
            case = {"function": "compose", "a": op, "b": other}
            case["error"] = _error_kind(lambda: compose(op, other))
        cases.append({"name": f"generated {number}", **case})
    return {
        "description": (
            "Inputs that must raise. function names the call, error is the stable error kind. "
            "check cases validate op alone. The other functions receive inputs with valid parts."
        ),
        "cases": cases,
    }


FILES: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "check.json": _check_file,
    "apply.json": _apply_file,
    "compose.json": _compose_file,
    "transform.json": _transform_file,
    "invert.json": _invert_file,
    "transform_position.json": _transform_position_file,
    "invalid.json": _invalid_file,
}

_SURROGATE = re.compile("[\ud800-\udfff]")


def render(content: dict[str, Any]) -> str:
    """Serialize one vector file as UTF-8 JSON text with one case per line.

    Lone surrogates, which only invalid cases contain, are written as ``\\uXXXX``
    escapes because UTF-8 cannot encode them.
    """
    lines = ["{", f'  "description": {json.dumps(content["description"], ensure_ascii=False)},', '  "cases": [']
    cases = content["cases"]
    for index, case in enumerate(cases):
        separator = "," if index < len(cases) - 1 else ""
        lines.append("    " + json.dumps(case, ensure_ascii=False) + separator)
    lines += ["  ]", "}", ""]
    text = "\n".join(lines)
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def build_files() -> dict[str, str]:
    """Return the text of every vector file by file name, each drawn from its own seeded generator."""
    return {name: render(build(random.Random(f"{SEED}/{name}"))) for name, build in FILES.items()}


def main() -> int:
    for name, text in build_files().items():
        (VECTOR_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote {VECTOR_DIR / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
