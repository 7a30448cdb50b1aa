"""Run the shared JSON test vectors against the Python core, and check that they match their generator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ot import (
    Bias,
    ErrorKind,
    InvalidOperation,
    apply,
    check,
    compose,
    from_splice,
    invert,
    transform,
    transform_position,
)
from tests.vectors.generate import FILES, VECTOR_DIR, build_files


def _cases(file_name: str) -> list[Any]:
    content = json.loads((VECTOR_DIR / file_name).read_text(encoding="utf-8"))
    return [pytest.param(case, id=case["name"]) for case in content["cases"]]


@pytest.mark.parametrize("file_name", sorted(FILES))
def test_vector_file_matches_generator(file_name: str) -> None:
    path: Path = VECTOR_DIR / file_name

    committed = path.read_text(encoding="utf-8")

    assert committed == build_files()[file_name], (
        f"{path} differs from its generator; if the change is intended, run "
        "`PYTHONPATH=. python tests/vectors/generate.py` and review the diff"
    )


@pytest.mark.parametrize("file_name", sorted(FILES))
def test_vector_file_is_valid_utf8(file_name: str) -> None:
    (VECTOR_DIR / file_name).read_bytes().decode("utf-8")


@pytest.mark.parametrize("case", _cases("check.json"))
def test_check_vector(case: dict[str, Any]) -> None:
    assert check(case["op"]) == case["expected"]


@pytest.mark.parametrize("case", _cases("apply.json"))
def test_apply_vector(case: dict[str, Any]) -> None:
    assert apply(case["doc"], case["op"]) == case["expected"]


@pytest.mark.parametrize("case", _cases("compose.json"))
def test_compose_vector(case: dict[str, Any]) -> None:
    composed = compose(case["a"], case["b"])

    assert composed == case["expected"]
    assert apply(case["doc"], composed) == apply(apply(case["doc"], case["a"]), case["b"])


@pytest.mark.parametrize("case", _cases("transform.json"))
def test_transform_vector(case: dict[str, Any]) -> None:
    a_prime, b_prime = transform(case["a"], case["b"])

    assert a_prime == case["expected_a"]
    assert b_prime == case["expected_b"]
    assert apply(apply(case["doc"], case["a"]), b_prime) == case["expected_doc"]
    assert apply(apply(case["doc"], case["b"]), a_prime) == case["expected_doc"]


@pytest.mark.parametrize("case", _cases("invert.json"))
def test_invert_vector(case: dict[str, Any]) -> None:
    inverse = invert(case["op"], case["doc"])

    assert inverse == case["expected"]
    assert apply(apply(case["doc"], case["op"]), inverse) == case["doc"]


@pytest.mark.parametrize("case", _cases("transform_position.json"))
def test_transform_position_vector(case: dict[str, Any]) -> None:
    bias = Bias(case["bias"])

    assert transform_position(case["pos"], case["op"], bias) == case["expected"]


def _call(case: dict[str, Any]) -> object:
    function = case["function"]
    if function == "check":
        return check(case["op"])
    if function == "apply":
        return apply(case["doc"], case["op"])
    if function == "compose":
        return compose(case["a"], case["b"])
    if function == "transform":
        return transform(case["a"], case["b"])
    if function == "invert":
        return invert(case["op"], case["doc"])
    if function == "transform_position":
        return transform_position(case["pos"], case["op"])
    if function == "from_splice":
        return from_splice(case["doc_length"], case["pos"], case["delete_count"], case["text"])
    raise AssertionError(f"unknown function {function!r} in invalid.json")


@pytest.mark.parametrize("case", _cases("invalid.json"))
def test_invalid_vector_raises_its_kind(case: dict[str, Any]) -> None:
    with pytest.raises(InvalidOperation) as info:
        _call(case)

    assert info.value.kind is ErrorKind(case["error"])
