// Checks the code point helpers in src/unicode.js against plain unit-by-unit walks on
// seeded random strings with surrogate pairs, lone surrogates and long runs without any.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  advanceCodePoints,
  codePointLength,
  findLoneSurrogate,
  sliceCodePoints,
} from "../src/unicode.js";
import { seededRandom } from "./helpers.js";

const HIGH = "\uD83D";
const LOW = "\uDE00";
// Single units, pairs and lone halves. The long run makes the helpers search windows
// that hold no surrogate, and "\u00e9" and "\u6f22" keep one-byte and two-byte strings mixed.
const PIECES = ["a", "b", " ", "\u00e9", "\u6f22", "\u{1f600}", "\u{1d11e}", HIGH, LOW, "x".repeat(70)];

function isHigh(unit) {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLow(unit) {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** Returns the units of the code point at `index`: 2 for a pair, otherwise 1. */
function unitsAt(text, index) {
  return isHigh(text.charCodeAt(index)) && isLow(text.charCodeAt(index + 1)) ? 2 : 1;
}

function referenceAdvance(text, from, count) {
  let index = from;
  for (let remaining = count; remaining > 0; remaining--) {
    if (index >= text.length) return -1;
    index += unitsAt(text, index);
  }
  return index;
}

function referenceLength(text) {
  let length = 0;
  for (let index = 0; index < text.length; index += unitsAt(text, index)) length++;
  return length;
}

function referenceLoneSurrogate(text) {
  let offset = 0;
  for (let index = 0; index < text.length; offset++) {
    const unit = text.charCodeAt(index);
    const size = unitsAt(text, index);
    if (size === 1 && (isHigh(unit) || isLow(unit))) return { offset, unit };
    index += size;
  }
  return null;
}

function randomText(random, pieceCount) {
  let text = "";
  for (let i = 0; i < pieceCount; i++) text += PIECES[Math.floor(random() * PIECES.length)];
  return text;
}

test("advanceCodePoints matches unit walk", () => {
  const random = seededRandom(11);
  for (let round = 0; round < 300; round++) {
    const text = randomText(random, Math.floor(random() * 40));
    const from = Math.floor(random() * (text.length + 2));
    const length = referenceLength(text);
    // Counts around the search window size (32) and past the end of the text.
    const counts = [0, 1, 2, 31, 32, 33, length, length + 1];
    for (let i = 0; i < 6; i++) counts.push(Math.floor(random() * (length + 3)));
    for (const count of counts) {
      assert.equal(
        advanceCodePoints(text, from, count),
        referenceAdvance(text, from, count),
        `text ${JSON.stringify(text)}, from ${from}, count ${count}`,
      );
    }
  }
});

test("advanceCodePoints in steps reaches end", () => {
  const random = seededRandom(12);
  for (let round = 0; round < 100; round++) {
    const text = randomText(random, 60);
    let offset = 0;
    let expected = 0;
    let remaining = referenceLength(text);
    while (remaining > 0) {
      const step = 1 + Math.floor(random() * Math.min(remaining, 80));
      offset = advanceCodePoints(text, offset, step);
      expected = referenceAdvance(text, expected, step);
      assert.equal(offset, expected, `text ${JSON.stringify(text)}, step ${step}`);
      remaining -= step;
    }
    assert.equal(offset, text.length);
  }
});

test("codePointLength matches unit walk", () => {
  const random = seededRandom(13);
  for (let round = 0; round < 300; round++) {
    const text = randomText(random, Math.floor(random() * 40));
    assert.equal(codePointLength(text), referenceLength(text), JSON.stringify(text));
  }
  assert.equal(codePointLength(HIGH + HIGH + LOW + LOW), 3);
  assert.equal(codePointLength(LOW + HIGH), 2);
});

test("findLoneSurrogate matches unit walk", () => {
  const random = seededRandom(14);
  for (let round = 0; round < 300; round++) {
    const text = randomText(random, Math.floor(random() * 20));
    assert.deepEqual(findLoneSurrogate(text), referenceLoneSurrogate(text), JSON.stringify(text));
  }
  assert.deepEqual(findLoneSurrogate(`a${HIGH}${LOW}${LOW}`), { offset: 2, unit: 0xde00 });
  assert.deepEqual(findLoneSurrogate(`${HIGH}${HIGH}${LOW}`), { offset: 0, unit: 0xd83d });
  assert.equal(findLoneSurrogate(`\u{1f600}\u{1d11e}`), null);
});

test("sliceCodePoints matches code point array", () => {
  const random = seededRandom(15);
  for (let round = 0; round < 200; round++) {
    const text = randomText(random, Math.floor(random() * 30));
    const chars = Array.from(text);
    const start = Math.floor(random() * (chars.length + 2));
    const end = start + Math.floor(random() * (chars.length + 2));
    const expected = chars.slice(start, end).join("");
    assert.equal(sliceCodePoints(text, start, end), expected, `${JSON.stringify(text)} [${start}, ${end})`);
    assert.equal(sliceCodePoints(text, start), chars.slice(start).join(""));
  }
});
