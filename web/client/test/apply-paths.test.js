// Checks that `apply` and `invert` give the same results and errors on both paths. On
// text without surrogates, code points are UTF-16 units and counts are used as offsets.
// On text with characters beyond U+FFFF, they walk the text by code point.
//
// The cross-path check maps every character of a BMP-only case to an astral character
// (U+1F000 plus its code), which keeps every length and position in code points. So
// mapping the BMP result must give the astral result, and error messages must match.

import assert from "node:assert/strict";
import { test } from "node:test";

import { ErrorKind, InvalidOperation, apply, invert, normalize } from "../src/ot.js";
import { seededRandom } from "./helpers.js";

const BMP_ALPHABET = ["a", "b", "c", " ", "\n", "\u00e9", "\u6f22"];
const EMOJI_ALPHABET = [...BMP_ALPHABET, "\u{1f600}", "\u{1d11e}"];

function toAstral(text) {
  return Array.from(text, (char) => String.fromCodePoint(0x1f000 + char.codePointAt(0))).join("");
}

function opToAstral(op) {
  return op.map((part) => (typeof part === "string" ? toAstral(part) : part));
}

function randomText(random, alphabet, length) {
  let text = "";
  for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
  return text;
}

/** Returns a normalized operation with about `partCount` parts over `docLength` code points. */
function randomOp(random, alphabet, docLength, partCount) {
  const op = [];
  let remaining = docLength;
  for (let i = 0; i < partCount && remaining > 0; i++) {
    const roll = random();
    if (roll < 0.3) {
      op.push(randomText(random, alphabet, 1 + Math.floor(random() * 5)));
      continue;
    }
    const count = 1 + Math.floor(random() * Math.min(remaining, 2 * Math.ceil(docLength / partCount)));
    op.push(roll < 0.7 ? count : -count);
    remaining -= count;
  }
  if (random() < 0.3) op.push(randomText(random, alphabet, 3));
  if (remaining > 0) op.push(remaining);
  return normalize(op);
}

/** Applies `op` on an array of code points, independently of src/unicode.js. */
function referenceApply(text, op) {
  const chars = Array.from(text);
  let position = 0;
  let result = "";
  for (const part of op) {
    if (typeof part === "string") {
      result += part;
      continue;
    }
    const count = Math.abs(part);
    if (position + count > chars.length) return null;
    if (part > 0) result += chars.slice(position, position + count).join("");
    position += count;
  }
  return position === chars.length ? result : null;
}

/** Returns the call's result, or its InvalidOperation as {kind, message}. */
function outcome(call) {
  try {
    return { value: call() };
  } catch (error) {
    if (!(error instanceof InvalidOperation)) throw error;
    return { kind: error.kind, message: error.message };
  }
}

function assertSameOnBothPaths(doc, op, label) {
  const bmp = outcome(() => apply(doc, op));
  const astral = outcome(() => apply(toAstral(doc), opToAstral(op)));
  const expected = referenceApply(doc, op);
  if (expected === null) {
    assert.equal(bmp.kind, ErrorKind.LENGTH_MISMATCH, `${label}: BMP path error kind`);
    assert.equal(astral.kind, ErrorKind.LENGTH_MISMATCH, `${label}: astral path error kind`);
    assert.equal(astral.message, bmp.message, `${label}: error messages`);
    return;
  }
  assert.equal(bmp.value, expected, `${label}: BMP path result`);
  assert.equal(astral.value, toAstral(expected), `${label}: astral path result`);

  const inverse = invert(op, doc);
  assert.deepEqual(invert(opToAstral(op), toAstral(doc)), opToAstral(inverse), `${label}: inverse`);
  assert.equal(apply(bmp.value, inverse), doc, `${label}: inverse restores`);
}

test("apply paths agree on splices", () => {
  const random = seededRandom(21);
  for (let round = 0; round < 300; round++) {
    const doc = randomText(random, BMP_ALPHABET, Math.floor(random() * 200));
    const op = randomOp(random, BMP_ALPHABET, doc.length, 3);
    assertSameOnBothPaths(doc, op, `round ${round}, op ${JSON.stringify(op)}`);
  }
});

test("apply paths agree on many parts", () => {
  const random = seededRandom(22);
  for (let round = 0; round < 100; round++) {
    const doc = randomText(random, BMP_ALPHABET, 200 + Math.floor(random() * 2000));
    const op = randomOp(random, BMP_ALPHABET, doc.length, 20 + Math.floor(random() * 400));
    assertSameOnBothPaths(doc, op, `round ${round}, ${op.length} parts`);
  }
});

test("apply paths agree on length mismatches", () => {
  const random = seededRandom(23);
  for (let round = 0; round < 200; round++) {
    const doc = randomText(random, BMP_ALPHABET, 1 + Math.floor(random() * 100));
    const op = randomOp(random, BMP_ALPHABET, doc.length, 1 + Math.floor(random() * 10));
    // One code point too many or too few, in the last retain or delete.
    const last = op.findLastIndex((part) => typeof part === "number");
    const shifted = [...op];
    if (last < 0) shifted.push(1);
    else shifted[last] += (random() < 0.5 ? 1 : -1) * Math.sign(shifted[last]);
    const wrong = normalize(shifted);
    assertSameOnBothPaths(doc, wrong, `round ${round}, op ${JSON.stringify(wrong)}`);
  }
});

test("apply matches reference with emoji", () => {
  const random = seededRandom(24);
  for (let round = 0; round < 300; round++) {
    const doc = randomText(random, EMOJI_ALPHABET, Math.floor(random() * 500));
    const length = Array.from(doc).length;
    const op = randomOp(random, EMOJI_ALPHABET, length, 1 + Math.floor(random() * 100));
    assert.equal(apply(doc, op), referenceApply(doc, op), `round ${round}, op ${JSON.stringify(op)}`);
    assert.equal(apply(apply(doc, op), invert(op, doc)), doc, `round ${round}: inverse restores`);
  }
});

test("apply with emoji after edit", () => {
  const random = seededRandom(25);
  for (let round = 0; round < 200; round++) {
    const prefix = randomText(random, BMP_ALPHABET, 1 + Math.floor(random() * 100));
    const suffix = randomText(random, EMOJI_ALPHABET, Math.floor(random() * 100)) + "\u{1f600}";
    const doc = prefix + suffix;
    const length = Array.from(doc).length;
    const pos = Math.floor(random() * prefix.length);
    const deleted = Math.floor(random() * (prefix.length - pos + 1));
    const op = normalize([pos, randomText(random, BMP_ALPHABET, 2), -deleted, length - pos - deleted]);
    assert.equal(apply(doc, op), referenceApply(doc, op), `round ${round}, op ${JSON.stringify(op)}`);

    // The last retain must still count the emoji as one code point each.
    const tooLong = normalize([...op, 1]);
    assert.throws(() => apply(doc, tooLong), { kind: ErrorKind.LENGTH_MISMATCH });
  }
});

test("apply chain as inserts add emoji", () => {
  // Each step applies to the previous result, the case where apply reuses its own
  // surrogate check. Inserts add and deletes remove emoji along the way.
  const random = seededRandom(26);
  let doc = "";
  let expected = "";
  for (let step = 0; step < 2000; step++) {
    const alphabet = step % 400 < 200 ? BMP_ALPHABET : EMOJI_ALPHABET;
    const length = Array.from(doc).length;
    const op = randomOp(random, alphabet, length, 1 + Math.floor(random() * 4));
    expected = referenceApply(expected, op);
    doc = apply(doc, op);
    assert.equal(doc, expected, `step ${step}, op ${JSON.stringify(op)}`);
  }
});

test("apply on equal copy of result", () => {
  const first = apply("ab", [1, "\u{1f600}", 1]);
  const copy = ["a", "\u{1f600}", "b"].join("");
  assert.equal(apply(copy, [1, -1, 1]), "ab");
  assert.equal(apply(first, [2, "c", 1]), "a\u{1f600}cb");
});

test("apply error keeps previous result", () => {
  const result = apply("ab", [2, "\u{1f600}"]);
  assert.throws(() => apply("abc", [4]), { kind: ErrorKind.LENGTH_MISMATCH });
  assert.throws(() => apply(result, [4]), {
    kind: ErrorKind.LENGTH_MISMATCH,
    message: "part 0: retain of 4 at position 0 goes past the end of a 3-character document",
  });
  assert.equal(apply(result, [2, -1]), "ab");
});
