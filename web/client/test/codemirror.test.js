// Tests of the conversions between CodeMirror changes (UTF-16 offsets) and operations
// (code points) in src/codemirror.js. They need @codemirror/state only, not a DOM.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ChangeSet, EditorState, Text } from "@codemirror/state";

import {
  advanceInDoc,
  changesToOperation,
  codePointToOffset,
  offsetToCodePoint,
  operationToChanges,
  remoteChange,
  surrogateSafeChanges,
} from "../src/codemirror.js";
import { InvalidOperation, apply } from "../src/ot.js";
import { seededRandom } from "./helpers.js";

const doc = (text) => Text.of(text.split("\n"));

describe("positions", () => {
  test("emoji is one code point and two offsets", () => {
    const text = doc("a😀b");
    assert.equal(offsetToCodePoint(text, 3), 2);
    assert.equal(codePointToOffset(text, 2), 3);
    assert.equal(codePointToOffset(text, 3), 4);
  });

  test("line breaks count one", () => {
    const text = doc("é\n👩‍💻\nz");
    assert.equal(codePointToOffset(text, 2), 2);
    assert.equal(offsetToCodePoint(text, text.length), 7);
  });

  test("position past the end is clamped", () => {
    assert.equal(codePointToOffset(doc("ab"), 9), 2);
    assert.equal(advanceInDoc(doc("ab"), 0, 3), -1);
  });
});

describe("changesToOperation", () => {
  test("insert after emoji", () => {
    const text = doc("😀b");
    const changes = ChangeSet.of([{ from: 2, insert: "é" }], text.length);
    assert.deepEqual(changesToOperation(changes, text), [1, "é", 1]);
  });

  test("delete emoji counts one", () => {
    const text = doc("a😀b");
    const changes = ChangeSet.of([{ from: 1, to: 3 }], text.length);
    assert.deepEqual(changesToOperation(changes, text), [1, -1, 1]);
  });

  test("several changes and a line break", () => {
    const text = doc("ab\ncd");
    const changes = ChangeSet.of(
      [
        { from: 0, to: 1, insert: "X" },
        { from: 3, insert: "😀\n" },
      ],
      text.length,
    );
    const op = changesToOperation(changes, text);
    assert.deepEqual(op, ["X", -1, 2, "😀\n", 2]);
    assert.equal(apply(text.toString(), op), changes.apply(text).toString());
  });
});

describe("operationToChanges", () => {
  test("delete after astral characters", () => {
    const text = doc("👩‍💻xy");
    // The technologist is three code points: woman, zero-width joiner, laptop.
    const changes = operationToChanges([3, -1, 1], text);
    assert.deepEqual(changes, [{ from: 5, to: 6 }]);
  });

  test("base length mismatch throws", () => {
    assert.throws(() => operationToChanges([3], doc("ab")), InvalidOperation);
    assert.throws(() => operationToChanges([1], doc("ab")), InvalidOperation);
  });

  // Random documents and changes: converting each way must agree with apply.
  for (let seed = 1; seed <= 20; seed++) {
    test(`round trip, seed ${seed}`, () => {
      const random = seededRandom(seed);
      const pieces = ["a", "é", "😀", "\n", "👩‍💻", "🇫🇷", "\r", "漢"];
      const randomText = (count) =>
        Array.from({ length: count }, () => pieces[Math.floor(random() * pieces.length)]).join("");
      const text = doc(randomText(1 + Math.floor(random() * 12)));
      const length = [...text.toString()].length;

      // Build a change set on code point boundaries, as the editor's filter ensures.
      const boundaries = [0];
      for (const char of text.toString()) boundaries.push(boundaries.at(-1) + char.length);
      const picks = [...new Set(Array.from({ length: 4 }, () => Math.floor(random() * (length + 1))))];
      picks.sort((x, y) => x - y);
      const specs = [];
      for (let i = 0; i + 1 < picks.length; i += 2) {
        specs.push({ from: boundaries[picks[i]], to: boundaries[picks[i + 1]], insert: randomText(2) });
      }
      const changes = ChangeSet.of(specs, text.length);

      const op = changesToOperation(changes, text);
      const expected = changes.apply(text).toString();
      assert.equal(apply(text.toString(), op), expected);
      const back = ChangeSet.of(operationToChanges(op, text), text.length);
      assert.equal(back.apply(text).toString(), expected);
    });
  }
});

describe("surrogateSafeChanges", () => {
  const state = (text) =>
    EditorState.create({
      doc: text,
      extensions: [EditorState.lineSeparator.of("\n"), surrogateSafeChanges],
    });

  test("change inside a pair is widened to the pair", () => {
    const start = state("a😀b");
    // Replace only the low surrogate, as a UTF-16 diff of 😀 to 😃 would.
    const tr = start.update({ changes: { from: 2, to: 3, insert: "\uDE03" } });
    assert.equal(tr.state.doc.toString(), "a😃b");
    let widened = null;
    tr.changes.iterChanges((fromA, toA) => {
      widened = [fromA, toA];
    });
    assert.deepEqual(widened, [1, 3]);
  });

  test("lone surrogate becomes a replacement character", () => {
    const tr = state("ab").update({ changes: { from: 1, insert: "\uD800" } });
    assert.equal(tr.state.doc.toString(), "a\uFFFDb");
  });

  test("remote changes pass unchanged", () => {
    const tr = state("a😀b").update({
      changes: { from: 2, to: 3, insert: "\uDE03" },
      annotations: remoteChange.of(true),
    });
    assert.equal(tr.state.doc.toString(), "a😃b");
    let range = null;
    tr.changes.iterChanges((fromA, toA) => {
      range = [fromA, toA];
    });
    assert.deepEqual(range, [2, 3]);
  });

  test("carriage return stays in the text", () => {
    const tr = state("a\r\nb").update({ changes: { from: 4, insert: "c" } });
    assert.equal(tr.state.doc.toString(), "a\r\nbc");
  });
});
