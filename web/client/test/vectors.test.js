// Runs every case of the shared OT test vectors in tests/vectors against src/ot.js.
// Each vector file is one suite and each case one test named after the case.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import {
  InvalidOperation,
  apply,
  check,
  compose,
  fromSplice,
  invert,
  transform,
  transformPosition,
} from "../src/ot.js";

const VECTOR_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../../tests/vectors");

function assertRaises(kind, call) {
  assert.throws(call, (error) => {
    assert.ok(error instanceof InvalidOperation, `expected InvalidOperation, got ${error}`);
    assert.equal(error.kind, kind);
    return true;
  });
}

// The call each invalid case names, with the arguments under the names the README gives.
const INVALID_CALLS = {
  check: (c) => check(c.op),
  apply: (c) => apply(c.doc, c.op),
  compose: (c) => compose(c.a, c.b),
  transform: (c) => transform(c.a, c.b),
  invert: (c) => invert(c.op, c.doc),
  transform_position: (c) => transformPosition(c.pos, c.op, c.bias ?? "before"),
  from_splice: (c) => fromSplice(c.doc_length, c.pos, c.delete_count, c.text),
};

const RUNNERS = {
  "check.json": (c) => assert.deepEqual(check(c.op), c.expected),
  "apply.json": (c) => assert.equal(apply(c.doc, c.op), c.expected),
  "compose.json": (c) => {
    const composed = compose(c.a, c.b);
    assert.deepEqual(composed, c.expected);
    assert.equal(apply(c.doc, composed), apply(apply(c.doc, c.a), c.b));
  },
  "transform.json": (c) => {
    const [aPrime, bPrime] = transform(c.a, c.b);
    assert.deepEqual(aPrime, c.expected_a, "a rewritten to apply after b");
    assert.deepEqual(bPrime, c.expected_b, "b rewritten to apply after a");
    assert.equal(apply(apply(c.doc, c.a), bPrime), c.expected_doc, "a then b2");
    assert.equal(apply(apply(c.doc, c.b), aPrime), c.expected_doc, "b then a2");
  },
  "invert.json": (c) => {
    const inverse = invert(c.op, c.doc);
    assert.deepEqual(inverse, c.expected);
    assert.equal(apply(apply(c.doc, c.op), inverse), c.doc);
  },
  "transform_position.json": (c) =>
    assert.equal(transformPosition(c.pos, c.op, c.bias), c.expected),
  "invalid.json": (c) => {
    const call = INVALID_CALLS[c.function];
    assert.ok(call, `no call for function ${JSON.stringify(c.function)}`);
    assertRaises(c.error, () => call(c));
  },
};

const files = readdirSync(VECTOR_DIR)
  .filter((name) => name.endsWith(".json"))
  .sort();

test("vector folder has files", () => {
  assert.ok(files.length > 0, `no *.json files in ${VECTOR_DIR}`);
});

for (const name of files) {
  const content = JSON.parse(readFileSync(join(VECTOR_DIR, name), "utf-8"));

  describe(name, () => {
    const run = RUNNERS[name];
    test("has a runner and cases", () => {
      assert.ok(run, `vectors.test.js has no runner for ${name}; add one`);
      assert.ok(content.cases.length > 0, `${name} has no cases`);
    });
    if (!run) return;

    for (const testCase of content.cases) {
      test(testCase.name, () => run(testCase));
    }
  });
}
