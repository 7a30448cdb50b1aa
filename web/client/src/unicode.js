// Code point arithmetic on JavaScript strings, which index UTF-16 code units.
//
// Operations count Unicode code points, as Python's str does, so an emoji outside
// the Basic Multilingual Plane is one position here but two units in a JS string.
// A lone surrogate counts as one code point, as it does in Python.

const SURROGATE = /[\uD800-\uDFFF]/;

function isHighSurrogate(unit) {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(unit) {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** Returns whether `text` contains any surrogate unit, so that code points and units differ. */
export function hasSurrogates(text) {
  return SURROGATE.test(text);
}

/** Returns the number of code points in `text`. */
export function codePointLength(text) {
  if (!SURROGATE.test(text)) return text.length;
  let count = 0;
  for (let index = 0; index < text.length; index++) {
    if (
      isHighSurrogate(text.charCodeAt(index)) &&
      isLowSurrogate(text.charCodeAt(index + 1))
    ) {
      index++;
    }
    count++;
  }
  return count;
}

/**
 * Returns the UTF-16 index that lies `count` code points after UTF-16 index `from`,
 * or -1 when `text` ends before that.
 */
export function advanceCodePoints(text, from, count) {
  let index = from;
  for (let remaining = count; remaining > 0; remaining--) {
    if (index >= text.length) return -1;
    if (
      isHighSurrogate(text.charCodeAt(index)) &&
      isLowSurrogate(text.charCodeAt(index + 1))
    ) {
      index += 2;
    } else {
      index += 1;
    }
  }
  return index;
}

/** Returns the code points of `text` from `start` up to, not including, `end` (code point indexes). */
export function sliceCodePoints(text, start, end = Infinity) {
  if (!SURROGATE.test(text)) return text.slice(start, end);
  const from = advanceCodePoints(text, 0, start);
  if (from < 0) return "";
  if (end === Infinity) return text.slice(from);
  const to = advanceCodePoints(text, from, end - start);
  return text.slice(from, to < 0 ? text.length : to);
}

/**
 * Returns the position of the first unpaired surrogate in `text`, or null.
 *
 * `offset` counts code points, like every position in an operation, and `unit`
 * is the surrogate's value for error messages.
 */
export function findLoneSurrogate(text) {
  if (!SURROGATE.test(text)) return null;
  let offset = 0;
  for (let index = 0; index < text.length; index++, offset++) {
    const unit = text.charCodeAt(index);
    if (isHighSurrogate(unit) && isLowSurrogate(text.charCodeAt(index + 1))) {
      index++;
    } else if (isHighSurrogate(unit) || isLowSurrogate(unit)) {
      return { offset, unit };
    }
  }
  return null;
}

/**
 * Returns whether UTF-16 index `index` falls between the two halves of a surrogate pair,
 * where no edit may start or end.
 */
export function splitsSurrogatePair(text, index) {
  return (
    index > 0 &&
    index < text.length &&
    isHighSurrogate(text.charCodeAt(index - 1)) &&
    isLowSurrogate(text.charCodeAt(index))
  );
}
