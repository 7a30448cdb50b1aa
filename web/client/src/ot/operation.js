// Text operations in the compact list form, and their algebra, as the Python
// ot/operation.py defines them.
//
// An operation is an array of parts that walks the whole document from start to end:
//
//   a positive integer n retains (keeps) the next n code points,
//   a non-empty string inserts that text at the current position,
//   a negative integer -n deletes the next n code points.
//
// Lengths and positions count Unicode code points, not UTF-16 units, so "😀" has
// length 1. An operation spans the whole document: its base length (retains plus
// deletes) equals the length of the document it applies to, and trailing retains are
// kept. The identity operation of the empty document is [].
//
// The normalized form has no zero or empty parts, merges adjacent parts of the same
// kind, and puts an insert before an adjacent delete. `check` returns it, and every
// function here returns normalized operations. The functions after `check` take
// operations with valid parts and skip type checks, but still throw InvalidOperation
// when lengths do not fit.

import { ErrorKind, InvalidOperation } from "./errors.js";
import {
  advanceCodePoints,
  codePointLength,
  findLoneSurrogate,
  hasSurrogates,
  sliceCodePoints,
} from "../unicode.js";

/** Largest absolute value of a retain or delete that `check` accepts. */
export const MAX_PART_LENGTH = 2 ** 31;

// Builders. Each appends one part and keeps the operation normalized.

function pushRetain(ops, count) {
  const last = ops.length ? ops[ops.length - 1] : null;
  if (typeof last === "number" && last > 0) {
    ops[ops.length - 1] = last + count;
  } else {
    ops.push(count);
  }
}

function pushInsert(ops, text) {
  const size = ops.length;
  const last = size ? ops[size - 1] : null;
  if (typeof last === "string") {
    ops[size - 1] = last + text;
  } else if (typeof last === "number" && last < 0) {
    // An insert next to a delete goes first, so equal operations have one form.
    if (size > 1 && typeof ops[size - 2] === "string") {
      ops[size - 2] += text;
    } else {
      ops[size - 1] = text;
      ops.push(last);
    }
  } else {
    ops.push(text);
  }
}

function pushDelete(ops, count) {
  const last = ops.length ? ops[ops.length - 1] : null;
  if (typeof last === "number" && last < 0) {
    ops[ops.length - 1] = last - count;
  } else {
    ops.push(-count);
  }
}

function describePart(part) {
  if (part === null) return "null";
  if (Array.isArray(part)) return `array ${JSON.stringify(part)}`;
  if (typeof part === "object") return `object ${JSON.stringify(part)}`;
  return `${typeof part} ${String(part)}`;
}

function hex(unit) {
  return unit.toString(16).toUpperCase().padStart(4, "0");
}

/**
 * Validates the shape and types of `op` and returns its normalized copy.
 *
 * Law: check(normalize(op)) equals normalize(op) for every valid op. Only the shape is
 * checked, because the document is not known here, and `apply` checks the lengths.
 * Booleans and non-integer numbers are rejected as parts.
 */
export function check(op) {
  if (!Array.isArray(op)) {
    const type = op === null ? "null" : typeof op;
    throw new InvalidOperation(`operation must be an array, got ${type}`, ErrorKind.NOT_A_LIST);
  }

  const result = [];
  op.forEach((part, index) => {
    if (typeof part === "number" && Number.isInteger(part)) {
      if (part === 0) {
        throw new InvalidOperation(
          `part ${index} is 0, but a retain or delete must be non-zero`,
          ErrorKind.EMPTY_PART,
        );
      }
      if (part > MAX_PART_LENGTH || part < -MAX_PART_LENGTH) {
        throw new InvalidOperation(
          `part ${index} is ${part}, beyond the limit of 2**31`,
          ErrorKind.PART_TOO_LONG,
        );
      }
      if (part > 0) pushRetain(result, part);
      else pushDelete(result, -part);
    } else if (typeof part === "string") {
      if (!part) {
        throw new InvalidOperation(
          `part ${index} is an empty string, but an insert must be non-empty`,
          ErrorKind.EMPTY_PART,
        );
      }
      const lone = findLoneSurrogate(part);
      if (lone) {
        throw new InvalidOperation(
          `part ${index} contains a lone surrogate U+${hex(lone.unit)} at offset ${lone.offset}`,
          ErrorKind.LONE_SURROGATE,
        );
      }
      pushInsert(result, part);
    } else {
      throw new InvalidOperation(
        `part ${index} is ${describePart(part)}, but must be an integer or a string`,
        ErrorKind.INVALID_PART,
      );
    }
  });
  return result;
}

/**
 * Returns the normalized form of `op`, which must have valid parts.
 *
 * Law: apply(s, normalize(op)) equals apply(s, op), and normalize is idempotent.
 */
export function normalize(op) {
  const result = [];
  for (const part of op) {
    if (typeof part === "string") {
      if (part) pushInsert(result, part);
    } else if (part > 0) {
      pushRetain(result, part);
    } else if (part < 0) {
      pushDelete(result, -part);
    }
  }
  return result;
}

/** Returns the length of the document that `op` applies to (retains plus deletes). */
export function baseLength(op) {
  let length = 0;
  for (const part of op) {
    if (typeof part === "number") length += Math.abs(part);
  }
  return length;
}

/** Returns the length of the document after `op` (retains plus inserts). */
export function targetLength(op) {
  let length = 0;
  for (const part of op) {
    if (typeof part === "string") length += codePointLength(part);
    else if (part > 0) length += part;
  }
  return length;
}

/** Returns whether `op` leaves every document unchanged (only retains, or empty). */
export function isNoop(op) {
  return op.every((part) => typeof part === "number" && part > 0);
}

function pastEnd(index, kind, count, position, text) {
  return new InvalidOperation(
    `part ${index}: ${kind} of ${count} at position ${position} goes past the end ` +
      `of a ${codePointLength(text)}-character document`,
    ErrorKind.LENGTH_MISMATCH,
  );
}

function baseMismatch(position, text) {
  return new InvalidOperation(
    `operation has base length ${position} but the document has ` +
      `${codePointLength(text)} characters`,
    ErrorKind.LENGTH_MISMATCH,
  );
}

// The last text `apply` returned, and whether it contains surrogates. Callers usually
// pass that text back with the next operation, and for a string V8 stores as two-byte
// (one with a character above U+00FF at some point) the regex scan reads the whole
// document each time. `===` compares content, so an equal copy gets the same result.
// This keeps one document alive until the next call.
let lastResult = "";
let lastResultHasSurrogates = false;

/** Returns whether `text` contains surrogates, without a scan when it is apply's last result. */
function documentHasSurrogates(text) {
  return text === lastResult ? lastResultHasSurrogates : hasSurrogates(text);
}

/**
 * Applies `op` to `text` and returns the new text.
 *
 * Law: codePointLength(apply(text, op)) equals targetLength(op).
 * Throws InvalidOperation when baseLength(op) differs from the length of `text`.
 */
export function apply(text, op) {
  // Without surrogates every code point is one UTF-16 unit, so counts are offsets.
  const unitsAreCodePoints = !documentHasSurrogates(text);
  let insertsHaveSurrogates = false;
  const pieces = [];
  let position = 0; // code points consumed
  let offset = 0; // the same place as a UTF-16 index
  for (let index = 0; index < op.length; index++) {
    const part = op[index];
    if (typeof part === "string") {
      pieces.push(part);
      if (unitsAreCodePoints && !insertsHaveSurrogates) insertsHaveSurrogates = hasSurrogates(part);
      continue;
    }
    const count = part > 0 ? part : -part;
    const end = partEnd(text, unitsAreCodePoints, offset, count);
    if (end < 0) throw pastEnd(index, part > 0 ? "retain" : "delete", count, position, text);
    if (part > 0) pieces.push(text.slice(offset, end));
    position += count;
    offset = end;
  }
  if (offset !== text.length) throw baseMismatch(position, text);

  lastResult = joinPieces(pieces);
  // Slices of a text without surrogates have none, so only the inserts can add them.
  // A text with surrogates may lose them all, but `true` only costs the slow path.
  lastResultHasSurrogates = !unitsAreCodePoints || insertsHaveSurrogates;
  return lastResult;
}

/**
 * Returns the UTF-16 index `count` code points after index `offset` of `text`, or -1
 * when `text` ends before that. `unitsAreCodePoints` is true when `text` has no surrogates.
 */
function partEnd(text, unitsAreCodePoints, offset, count) {
  if (!unitsAreCodePoints) return advanceCodePoints(text, offset, count);
  return offset + count <= text.length ? offset + count : -1;
}

function joinPieces(pieces) {
  // A splice has at most three pieces (kept prefix, insert, kept suffix), and adding
  // them with + skips building the array's join.
  switch (pieces.length) {
    case 0:
      return "";
    case 1:
      return pieces[0];
    case 2:
      return pieces[0] + pieces[1];
    case 3:
      return pieces[0] + pieces[1] + pieces[2];
    default:
      return pieces.join("");
  }
}

/**
 * Combines `a` then `b` into one operation.
 *
 * Law: apply(apply(s, a), b) equals apply(s, compose(a, b)).
 * The loop walks the document between the two: a's output (its retains and inserts)
 * is b's input (its retains and deletes).
 * Throws InvalidOperation when targetLength(a) differs from baseLength(b).
 */
export function compose(a, b) {
  const result = [];
  let indexA = 0;
  let indexB = 0;
  // The current part of each operation, partly consumed; 0 means exhausted.
  let x = a.length ? a[0] : 0;
  let y = b.length ? b[0] : 0;
  const nextA = () => (++indexA < a.length ? a[indexA] : 0);
  const nextB = () => (++indexB < b.length ? b[indexB] : 0);

  for (;;) {
    // A delete in a removes text that is not in b's input.
    if (typeof x === "number" && x < 0) {
      pushDelete(result, -x);
      x = nextA();
      continue;
    }
    // An insert in b adds text that is not in a's output.
    if (typeof y === "string") {
      pushInsert(result, y);
      y = nextB();
      continue;
    }
    if (x === 0 && y === 0) break;
    if (x === 0 || y === 0) {
      throw new InvalidOperation(
        `cannot compose: the first operation has target length ${targetLength(a)} ` +
          `but the second has base length ${baseLength(b)}`,
        ErrorKind.LENGTH_MISMATCH,
      );
    }

    if (typeof x === "string") {
      const size = codePointLength(x);
      if (y > 0) {
        // b keeps text that a inserted.
        if (size <= y) {
          pushInsert(result, x);
          y -= size;
          x = 0;
        } else {
          pushInsert(result, sliceCodePoints(x, 0, y));
          x = sliceCodePoints(x, y);
          y = 0;
        }
      } else if (size <= -y) {
        // b deletes text that a inserted, so neither reaches the result.
        y += size;
        x = 0;
      } else {
        x = sliceCodePoints(x, -y);
        y = 0;
      }
    } else if (y > 0) {
      const count = Math.min(x, y);
      pushRetain(result, count);
      x -= count;
      y -= count;
    } else {
      const count = Math.min(x, -y);
      pushDelete(result, count);
      x -= count;
      y += count;
    }

    if (x === 0) x = nextA();
    if (y === 0) y = nextB();
  }
  return result;
}

/**
 * Transforms concurrent `a` and `b` against each other and returns [a2, b2].
 *
 * Law (convergence): apply(apply(s, a), b2) equals apply(apply(s, b), a2).
 *
 *              s
 *           a / \ b
 *            v   v
 *        s·a       s·b
 *           \     /
 *         b2 \   / a2
 *             v v
 *              s'
 *
 * a2 is `a` rewritten to apply after `b`, and b2 is `b` rewritten to apply after `a`.
 * Tie rule: when both insert at the same position, a's text comes first. The server
 * passes the committed operation as `a`, so a client calls transform(serverOp, ownOp).
 * Throws InvalidOperation when the base lengths differ.
 */
export function transform(a, b) {
  const aPrime = [];
  const bPrime = [];
  let indexA = 0;
  let indexB = 0;
  // The current part of each operation, partly consumed; 0 means exhausted.
  let x = a.length ? a[0] : 0;
  let y = b.length ? b[0] : 0;
  const nextA = () => (++indexA < a.length ? a[indexA] : 0);
  const nextB = () => (++indexB < b.length ? b[indexB] : 0);

  for (;;) {
    // Checking a's insert first is what puts a's text first on a tie.
    if (typeof x === "string") {
      pushInsert(aPrime, x);
      pushRetain(bPrime, codePointLength(x));
      x = nextA();
      continue;
    }
    if (typeof y === "string") {
      pushRetain(aPrime, codePointLength(y));
      pushInsert(bPrime, y);
      y = nextB();
      continue;
    }
    if (x === 0 && y === 0) break;
    if (x === 0 || y === 0) {
      throw new InvalidOperation(
        `cannot transform: the operations have base lengths ${baseLength(a)} and ${baseLength(b)}`,
        ErrorKind.LENGTH_MISMATCH,
      );
    }

    if (x > 0 && y > 0) {
      const count = Math.min(x, y);
      pushRetain(aPrime, count);
      pushRetain(bPrime, count);
      x -= count;
      y -= count;
    } else if (x > 0) {
      // Only b deletes this text, so b2 still has to delete it after a.
      const count = Math.min(x, -y);
      pushDelete(bPrime, count);
      x -= count;
      y += count;
    } else if (y > 0) {
      // Only a deletes this text, so a2 still has to delete it after b.
      const count = Math.min(-x, y);
      pushDelete(aPrime, count);
      x += count;
      y -= count;
    } else {
      // Both delete the same text, so neither transformed operation deletes it again.
      const count = Math.max(x, y);
      x -= count;
      y -= count;
    }

    if (x === 0) x = nextA();
    if (y === 0) y = nextB();
  }
  return [aPrime, bPrime];
}

/**
 * Returns the operation that undoes `op`, where `text` is the document before `op`.
 *
 * Law: apply(apply(text, op), invert(op, text)) equals text.
 * Throws InvalidOperation when baseLength(op) differs from the length of `text`.
 */
export function invert(op, text) {
  const unitsAreCodePoints = !documentHasSurrogates(text);
  const result = [];
  let position = 0;
  let offset = 0;
  for (let index = 0; index < op.length; index++) {
    const part = op[index];
    if (typeof part === "string") {
      pushDelete(result, codePointLength(part));
      continue;
    }
    const count = part > 0 ? part : -part;
    const end = partEnd(text, unitsAreCodePoints, offset, count);
    if (end < 0) throw pastEnd(index, part > 0 ? "retain" : "delete", count, position, text);
    if (part > 0) pushRetain(result, count);
    else pushInsert(result, text.slice(offset, end));
    position += count;
    offset = end;
  }
  if (offset !== text.length) throw baseMismatch(position, text);
  return result;
}

/**
 * Builds the operation that deletes `deleteCount` code points at `pos` of a document of
 * `docLength` code points and inserts `text` there.
 *
 * Law: apply(s, fromSplice(len(s), pos, n, t)) equals s[:pos] + t + s[pos + n:].
 */
export function fromSplice(docLength, pos, deleteCount, text) {
  if (docLength < 0) {
    throw new InvalidOperation(`document length ${docLength} is negative`, ErrorKind.OUT_OF_RANGE);
  }
  if (pos < 0 || pos > docLength) {
    throw new InvalidOperation(
      `splice position ${pos} is outside a ${docLength}-character document`,
      ErrorKind.OUT_OF_RANGE,
    );
  }
  if (deleteCount < 0) {
    throw new InvalidOperation(
      `splice delete count ${deleteCount} is negative`,
      ErrorKind.OUT_OF_RANGE,
    );
  }
  if (pos + deleteCount > docLength) {
    throw new InvalidOperation(
      `splice delete of ${deleteCount} at position ${pos} goes past the end ` +
        `of a ${docLength}-character document`,
      ErrorKind.OUT_OF_RANGE,
    );
  }
  const lone = findLoneSurrogate(text);
  if (lone) {
    throw new InvalidOperation(
      `splice text contains a lone surrogate U+${hex(lone.unit)} at offset ${lone.offset}`,
      ErrorKind.LONE_SURROGATE,
    );
  }

  const result = [];
  if (pos) result.push(pos);
  if (text) result.push(text);
  if (deleteCount) result.push(-deleteCount);
  const rest = docLength - pos - deleteCount;
  if (rest) pushRetain(result, rest);
  return result;
}
