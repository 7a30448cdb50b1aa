"""Generate the shared OT micro-benchmark cases and time the Python ``ot`` core on them.

    python bench/compare/ot_cases.py CASES_JSON [--seconds 1]

Writes the cases to CASES_JSON, so ot-bench.mjs times the JavaScript libraries on the same
operations, and prints the Python timings as JSON on stdout. A case is a splice
``[position, deleted_count, inserted_text]`` in code points on a known document:

* ``apply``: one splice on the 10,000-character document,
* ``compose``: a splice on the document, then one on its result,
* ``transform``: two splices on the same document.

Trace replays apply every patch of the sequential traces in tests/traces one by one with
``from_splice`` and ``apply``, as bench/ot_bench.py does, and check ``endContent``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from pathlib import Path
from typing import Callable

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from ot import apply, compose, from_splice, transform  # noqa: E402

SEED = 20261204
DOC_LENGTH = 10_000
CASE_COUNT = 1_000
ALPHABET = "abcdefghijklmnopqrstuvwxyz      \n\u00e9\u6f22\U0001f600"
SEQUENTIAL_TRACES = ["seph-blog1", "sveltecomponent", "json-crdt-patch", "friendsforever_flat", "clownschool_flat"]

Splice = tuple[int, int, str]


def random_splice(rng: random.Random, length: int) -> Splice:
    """Return a typing-sized splice: mostly one-character inserts, some deletes and pastes."""
    pos = rng.randint(0, length)
    roll = rng.random()
    if roll < 0.7 or length == pos:
        return (pos, 0, rng.choice(ALPHABET))
    if roll < 0.95:
        return (pos, 1, "")
    count = rng.randint(0, min(20, length - pos))
    text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 40)))
    return (pos, count, text)


def generate_cases() -> dict[str, object]:
    rng = random.Random(SEED)
    document = "".join(rng.choice(ALPHABET) for _ in range(DOC_LENGTH))
    firsts = [random_splice(rng, DOC_LENGTH) for _ in range(CASE_COUNT)]
    followers = []
    for pos, deleted, inserted in firsts:
        followers.append(random_splice(rng, DOC_LENGTH - deleted + len(inserted)))
    concurrent = [random_splice(rng, DOC_LENGTH) for _ in range(CASE_COUNT)]
    return {"document": document, "first": firsts, "follower": followers, "concurrent": concurrent}


def time_loop(seconds: float, batch: Callable[[], int]) -> float:
    """Run ``batch`` repeatedly for about ``seconds`` and return operations per second."""
    batch()  # warm-up
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        count += batch()
    return count / (time.perf_counter() - start)


def time_micro(cases: dict[str, object], seconds: float) -> dict[str, float]:
    document = cases["document"]
    assert isinstance(document, str)
    length = len(document)
    firsts = [from_splice(length, *s) for s in cases["first"]]  # type: ignore[attr-defined]
    followers = [
        from_splice(length - s[1] + len(s[2]), *f)
        for s, f in zip(cases["first"], cases["follower"])  # type: ignore[call-overload]
    ]
    concurrent = [from_splice(length, *s) for s in cases["concurrent"]]  # type: ignore[attr-defined]

    def apply_batch() -> int:
        for op in firsts:
            apply(document, op)
        return len(firsts)

    def compose_batch() -> int:
        for a, b in zip(firsts, followers):
            compose(a, b)
        return len(firsts)

    def transform_batch() -> int:
        for a, b in zip(firsts, concurrent):
            transform(a, b)
        return len(firsts)

    return {
        "apply": time_loop(seconds, apply_batch),
        "compose": time_loop(seconds, compose_batch),
        "transform": time_loop(seconds, transform_batch),
    }


def time_traces(trace_dir: Path) -> dict[str, dict[str, float]]:
    results = {}
    for name in SEQUENTIAL_TRACES:
        with gzip.open(trace_dir / f"{name}.json.gz", "rt", encoding="utf-8") as file:
            trace = json.load(file)
        patches = [patch for txn in trace["txns"] for patch in txn["patches"]]
        start = time.perf_counter()
        text = trace.get("startContent", "")
        for pos, deleted, inserted in patches:
            text = apply(text, from_splice(len(text), pos, deleted, inserted))
        elapsed = time.perf_counter() - start
        if text != trace["endContent"]:
            raise SystemExit(f"replay of {name} does not reproduce endContent")
        results[name] = {"patches": len(patches), "seconds": elapsed, "patchesPerSecond": len(patches) / elapsed}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", type=Path, help="JSON file to write the generated cases to")
    parser.add_argument("--seconds", type=float, default=1.0, help="time per micro-benchmark, in seconds")
    args = parser.parse_args()

    cases = generate_cases()
    args.cases.write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
    result = {
        "micro": time_micro(cases, args.seconds),
        "traces": time_traces(REPO_ROOT / "tests" / "traces"),
        "python": sys.version.split()[0],
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
