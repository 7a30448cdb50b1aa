// Cursor positions and selections carried through operations, as the Python
// ot/cursor.py does. Positions count code points.

import { ErrorKind, InvalidOperation } from "./errors.js";
import { codePointLength } from "../unicode.js";

/** Side a position takes when an operation inserts exactly at it. */
export const Bias = Object.freeze({
  /** Stay before the inserted text, as another user's cursor usually should. */
  BEFORE: "before",
  /** Move after the inserted text, as the typing user's own cursor does. */
  AFTER: "after",
});

/**
 * Returns where position `pos` lands in the document after `op`.
 *
 * Law: a code point at index i that op does not delete is at index
 * transformPosition(i, op, Bias.AFTER) of apply(s, op).
 *
 * An insert exactly at `pos` leaves the position before the inserted text with
 * Bias.BEFORE and moves it after the text with Bias.AFTER. A position inside or at the
 * end of a deleted range moves to the start of that range, which comes after an insert
 * placed before the delete in normalized form.
 * Throws InvalidOperation when `pos` is negative or past baseLength(op).
 */
export function transformPosition(pos, op, bias = Bias.BEFORE) {
  if (pos < 0) {
    throw new InvalidOperation(`position ${pos} is negative`, ErrorKind.OUT_OF_RANGE);
  }

  let oldPosition = 0; // position in the document before op
  let newPosition = 0; // the same place in the document after op
  for (const part of op) {
    if (typeof part === "string") {
      if (pos === oldPosition && bias === Bias.BEFORE) return newPosition;
      newPosition += codePointLength(part);
    } else if (part > 0) {
      if (pos < oldPosition + part) return newPosition + pos - oldPosition;
      oldPosition += part;
      newPosition += part;
    } else {
      if (pos <= oldPosition - part) return newPosition;
      oldPosition -= part;
    }
  }

  if (pos > oldPosition) {
    throw new InvalidOperation(
      `position ${pos} is past the end of a ${oldPosition}-character document`,
      ErrorKind.OUT_OF_RANGE,
    );
  }
  return newPosition;
}

/**
 * Returns `selection` ({anchor, head} in code points) with both ends moved by
 * transformPosition with the same bias.
 */
export function transformSelection(selection, op, bias = Bias.BEFORE) {
  const anchor = transformPosition(selection.anchor, op, bias);
  if (selection.head === selection.anchor) return { anchor, head: anchor };
  return { anchor, head: transformPosition(selection.head, op, bias) };
}
