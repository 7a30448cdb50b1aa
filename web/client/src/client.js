// The client side of the OT protocol as a state machine with no I/O: local edits and
// server messages go in, edits to send and operations to apply come out.
//
// At most one edit is unacknowledged at a time. The client is in one of three states:
//
//   Synchronized                    every local edit is acknowledged
//   AwaitingConfirm(outstanding)    one edit sent, its ack not yet received
//   AwaitingWithBuffer(outstanding, buffer)
//                                   one edit sent, later local edits composed into buffer
//
// Legal transitions (anything else is a bug and throws):
//
//   Synchronized        --local op-->  AwaitingConfirm(op)             send op
//   AwaitingConfirm(o)  --local op-->  AwaitingWithBuffer(o, op)
//   AwaitingWithBuffer(o, b) --local op--> AwaitingWithBuffer(o, compose(b, op))
//   any state           --server op--> same state, o and b transformed, apply the rest
//   AwaitingConfirm(o)  --ack-->       Synchronized
//   AwaitingWithBuffer(o, b) --ack-->  AwaitingConfirm(b)              send b
//   any state           --reset-->     Synchronized                    pending edits dropped
//
// A server operation s arrives based on the client's revision, while the local
// document also contains o and b. Transforming walks the diamond twice:
//
//        rev ----o----> . ----b----> local
//         |             |              |
//         s             s'             s''   (applied to the local document)
//         v             v              v
//       rev+1 ---o'---> . ----b'---> local'
//
// transform(s, o) gives [s', o'] and transform(s', b) gives [s'', b']. The server's
// operation is the first argument, so its text wins ties, as it does on the server.

import { Bias, compose, transform, transformSelection } from "./ot.js";

/** Every local edit is acknowledged. */
export class Synchronized {
  get name() {
    return "Synchronized";
  }
}

/** One edit was sent and its ack is awaited. */
export class AwaitingConfirm {
  constructor(outstanding) {
    this.outstanding = outstanding;
  }

  get name() {
    return "AwaitingConfirm";
  }
}

/** One edit was sent, and local edits made since then wait in `buffer`. */
export class AwaitingWithBuffer {
  constructor(outstanding, buffer) {
    this.outstanding = outstanding;
    this.buffer = buffer;
  }

  get name() {
    return "AwaitingWithBuffer";
  }
}

/** The revision order broke: the client must rejoin for the full content. */
export class OutOfOrder extends Error {
  constructor(message) {
    super(message);
    this.name = "OutOfOrder";
  }
}

/**
 * The OT client of one document.
 *
 * An edit is {id, op, count}: `op` is in code points on the client's current revision,
 * and `count` is the number of local changes composed into it, shown to the user as
 * unsent edits. `newEditId` returns a fresh edit id each call.
 */
export class OTClient {
  constructor(revision, newEditId) {
    this.revision = revision;
    this.state = new Synchronized();
    this.newEditId = newEditId;
  }

  /** The sent edit awaiting its ack, or null. */
  get outstanding() {
    return this.state.outstanding ?? null;
  }

  /** Number of local changes not yet acknowledged by the server. */
  get unconfirmedCount() {
    const { outstanding, buffer } = this.state;
    return (outstanding?.count ?? 0) + (buffer?.count ?? 0);
  }

  /**
   * Records a local operation and returns the edit to send now, or null when an edit
   * is already in flight and the operation waits in the buffer.
   */
  applyLocal(op) {
    const state = this.state;
    if (state instanceof Synchronized) {
      const edit = { id: this.newEditId(), op, count: 1 };
      this.state = new AwaitingConfirm(edit);
      return edit;
    }
    if (state instanceof AwaitingConfirm) {
      this.state = new AwaitingWithBuffer(state.outstanding, { op, count: 1 });
      return null;
    }
    const buffer = { op: compose(state.buffer.op, op), count: state.buffer.count + 1 };
    this.state = new AwaitingWithBuffer(state.outstanding, buffer);
    return null;
  }

  /**
   * Takes an operation another client committed as `revision` and returns it
   * transformed to apply to the local document.
   * Throws OutOfOrder unless `revision` directly follows the client's revision.
   */
  applyServer(op, revision) {
    if (revision !== this.revision + 1) {
      throw new OutOfOrder(
        `server operation for revision ${revision} does not follow revision ${this.revision}`,
      );
    }
    this.revision = revision;

    const state = this.state;
    if (state instanceof Synchronized) return op;

    const [afterOutstanding, outstanding] = transform(op, state.outstanding.op);
    const movedOutstanding = { ...state.outstanding, op: outstanding };
    if (state instanceof AwaitingConfirm) {
      this.state = new AwaitingConfirm(movedOutstanding);
      return afterOutstanding;
    }

    const [afterBuffer, buffer] = transform(afterOutstanding, state.buffer.op);
    this.state = new AwaitingWithBuffer(movedOutstanding, { ...state.buffer, op: buffer });
    return afterBuffer;
  }

  /**
   * Takes the server's acknowledgement of edit `id`, committed as `revision`.
   *
   * Returns {acknowledged: false} when `id` is not the outstanding edit, as happens
   * when a resubmitted edit is acknowledged twice. Otherwise returns
   * {acknowledged: true, next}, where `next` is the buffered edit to send now or null.
   * Throws OutOfOrder unless `revision` directly follows the client's revision.
   */
  serverAck(id, revision) {
    const state = this.state;
    if (state instanceof Synchronized || state.outstanding.id !== id) {
      return { acknowledged: false, next: null };
    }
    if (revision !== this.revision + 1) {
      throw new OutOfOrder(
        `ack of edit ${id} for revision ${revision} does not follow revision ${this.revision}`,
      );
    }
    this.revision = revision;

    if (state instanceof AwaitingConfirm) {
      this.state = new Synchronized();
      return { acknowledged: true, next: null };
    }
    const next = { id: this.newEditId(), op: state.buffer.op, count: state.buffer.count };
    this.state = new AwaitingConfirm(next);
    return { acknowledged: true, next };
  }

  /**
   * Moves a selection given on the client's revision into the local document, which
   * also contains the unacknowledged edits. Another user's cursor stays before text
   * inserted exactly at it.
   */
  selectionToLocal(selection) {
    let moved = selection;
    const { outstanding, buffer } = this.state;
    if (outstanding) moved = transformSelection(moved, outstanding.op, Bias.BEFORE);
    if (buffer) moved = transformSelection(moved, buffer.op, Bias.BEFORE);
    return moved;
  }

  /**
   * Starts over at `revision` with no pending edits, as after a resync, and returns the
   * number of local changes dropped.
   */
  reset(revision) {
    const dropped = this.unconfirmedCount;
    this.revision = revision;
    this.state = new Synchronized();
    return dropped;
  }
}
