"""Hypothesis strategies for documents and operations, for any test that needs random edits.

Documents mix ASCII with the text that breaks code-unit assumptions: astral
emoji, combining marks, ZWJ sequences, CJK and CRLF line breaks. Operations are
random valid edits of a document of a given length. A failing property prints a
``@reproduce_failure`` blob because of ``REPLAYABLE``, and ``pytest
--hypothesis-seed=N`` replays a whole run.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st

from ot import Operation, normalize

__all__ = [
    "CLUSTERS",
    "REPLAYABLE",
    "concurrent_operations",
    "document_and_operation",
    "documents",
    "insert_texts",
    "operations",
    "raw_operations",
]

REPLAYABLE = settings(print_blob=True, deadline=None)
"""Settings for property tests: print the blob that replays a failing example, and set no
per-example deadline, which a busy CI machine would turn into spurious failures."""

CLUSTERS = (
    "a",
    "b",
    "Z",
    " ",
    "\n",
    "\r\n",
    "\t",
    "\U0001f600",  # grinning face, outside the Basic Multilingual Plane
    "\U0001f469\u200d\U0001f4bb",  # woman technologist, a ZWJ sequence
    "\U0001f1eb\U0001f1f7",  # flag of France, a regional indicator pair
    "e\u0301",  # e with a combining acute accent
    "\u00e9",  # precomposed e with acute
    "\u6f22\u5b57",  # CJK ideographs
    "\u05e9\u05dc\u05d5\u05dd",  # Hebrew, right to left
    "\ufeff",  # byte order mark inside text
)
"""Text fragments that documents and inserts are built from."""

_any_text = st.text(
    alphabet=st.characters(codec="utf-8"),
    max_size=12,
)


def documents(max_clusters: int = 20) -> st.SearchStrategy[str]:
    """Documents built from ``CLUSTERS``, or arbitrary text without lone surrogates."""
    from_clusters = st.lists(st.sampled_from(CLUSTERS), max_size=max_clusters).map(
        "".join
    )
    return st.one_of(from_clusters, from_clusters, _any_text)


def insert_texts() -> st.SearchStrategy[str]:
    """Non-empty insert texts, from ``CLUSTERS`` or arbitrary code points."""
    from_clusters = st.lists(st.sampled_from(CLUSTERS), min_size=1, max_size=4).map(
        "".join
    )
    return st.one_of(from_clusters, _any_text.filter(bool))


@st.composite
def raw_operations(draw: st.DrawFn, length: int) -> Operation:
    """Valid, possibly unnormalized operations on a document of ``length`` code points.

    Parts may repeat their kind or put a delete before an insert, as a client
    that does not normalize would send them.
    """
    parts: Operation = []
    remaining = length
    while remaining > 0:
        kind = draw(st.sampled_from(("retain", "delete", "insert")))
        if kind == "insert":
            parts.append(draw(insert_texts()))
            continue
        count = draw(st.integers(min_value=1, max_value=remaining))
        parts.append(count if kind == "retain" else -count)
        remaining -= count
    if draw(st.booleans()):
        parts.append(draw(insert_texts()))
    return parts


def operations(length: int) -> st.SearchStrategy[Operation]:
    """Valid normalized operations on a document of ``length`` code points."""
    return raw_operations(length).map(normalize)


@st.composite
def document_and_operation(draw: st.DrawFn) -> tuple[str, Operation]:
    """A document and a normalized operation that applies to it."""
    text = draw(documents())
    return text, draw(operations(len(text)))


@st.composite
def concurrent_operations(draw: st.DrawFn) -> tuple[str, Operation, Operation]:
    """A document and two normalized operations made concurrently on it.

    A third of the pairs have ``a`` insert at a random position, and another
    third have both insert at one shared position, so ties occur far more often
    than independent draws would produce them.
    """
    text = draw(documents())
    a = draw(operations(len(text)))
    b = draw(operations(len(text)))
    mode = draw(st.sampled_from(("independent", "a_inserts", "both_insert")))
    if mode != "independent":
        position = draw(st.integers(min_value=0, max_value=len(text)))
        a = _insert_at(position, len(text), draw(insert_texts()))
        if mode == "both_insert":
            b = _insert_at(position, len(text), draw(insert_texts()))
    return text, a, b


def _insert_at(position: int, length: int, text: str) -> Operation:
    return normalize([position, text, length - position])
