// Code point arithmetic on JavaScript strings, which index UTF-16 code units.
//
// Operations count Unicode code points, as Python's str does, so an emoji outside
// the Basic Multilingual Plane is one position here but two units in a JS string.
// A lone surrogate counts as one code point, as it does in Python.

const SURROGATE = /[\uD800-\uDFFF]/;
// Global, so `test` steps through the matches from `lastIndex` without building match arrays.
const SURROGATE_PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;
// Below this many code points, stepping unit by unit costs less than a slice and a regex
// search. The value is an estimate from timing Node 20 on text with an emoji every 35
// characters, where the crossover lay between about 30 and 100.
const MIN_SEARCH_WINDOW = 32;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

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
  // A pair is two units but one code point, and a lone surrogate is one of each.
  let count = text.length;
  SURROGATE_PAIR.lastIndex = 0;
  while (SURROGATE_PAIR.test(text)) count--;
  return count;
}

/**
 * Returns the UTF-16 index that lies `count` code points after UTF-16 index `from`,
 * or -1 when `text` ends before that.
 *
 * Runs in time proportional to the units passed over, not to the length of `text`, so
 * a walk through a document in k steps, each from the previous index, reads it once.
 */
export function advanceCodePoints(text, from, count) {
  let index = from;
  let remaining = count;
  while (remaining > 0) {
    if (remaining >= MIN_SEARCH_WINDOW) {
      // The next `remaining` code points span at least `remaining` units, so only a
      // surrogate inside that window moves their end. Up to it, units are code points.
      const windowEnd = Math.min(index + remaining, text.length);
      const found = text.slice(index, windowEnd).search(SURROGATE);
      if (found < 0) return index + remaining <= text.length ? index + remaining : -1;
      index += found;
      remaining -= found;
    } else if (index >= text.length) {
      return -1;
    }

    // Step over one code point: a pair, or a single unit that may be a lone surrogate.
    if (
      isHighSurrogate(text.charCodeAt(index)) &&
      isLowSurrogate(text.charCodeAt(index + 1))
    ) {
      index += 2;
    } else {
      index += 1;
    }
    remaining--;
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
  const index = text.search(LONE_SURROGATE);
  if (index < 0) return null;
  return { offset: codePointLength(text.slice(0, index)), unit: text.charCodeAt(index) };
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
