// Operational transformation for plain text, the JavaScript twin of the Python `ot`
// package: operations and their algebra (ot/operation.js), cursors (ot/cursor.js) and
// the error they throw (ot/errors.js). Both must pass the cases in tests/vectors.

export { Bias, transformPosition, transformSelection } from "./ot/cursor.js";
export { ErrorKind, InvalidOperation } from "./ot/errors.js";
export {
  MAX_PART_LENGTH,
  apply,
  baseLength,
  check,
  compose,
  fromSplice,
  invert,
  isNoop,
  normalize,
  targetLength,
  transform,
} from "./ot/operation.js";
