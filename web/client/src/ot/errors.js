// The error thrown for every invalid operation, position or length, with its stable
// reason code. The codes match the Python package's ErrorKind and the test vectors.

/** Stable reason codes, shared with the Python core and the test vectors. */
export const ErrorKind = Object.freeze({
  NOT_A_LIST: "not_a_list",
  INVALID_PART: "invalid_part",
  EMPTY_PART: "empty_part",
  PART_TOO_LONG: "part_too_long",
  LONE_SURROGATE: "lone_surrogate",
  LENGTH_MISMATCH: "length_mismatch",
  OUT_OF_RANGE: "out_of_range",
});

/** An operation, position or splice that does not fit its document or is malformed. */
export class InvalidOperation extends Error {
  constructor(message, kind) {
    super(message);
    this.name = "InvalidOperation";
    this.kind = kind;
  }
}
