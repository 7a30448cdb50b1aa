// The document protocol over one connection at a time: joins, sends edits and cursors,
// and applies what the server sends to the editor. It does no I/O of its own.
//
// `transport` sends messages: send(message) returns false while disconnected,
// reconnect() starts over, and markHealthy() resets its backoff. `editor` is the
// document view, with positions in code points: setContent(text), getContent(),
// applyRemote(op), getSelection(), setEditable(flag) and presenceChanged().
// The page calls connectionOpened(), receive(message) and connectionClosed({code})
// as the connection reports them, and the editor calls localChange(op) and
// localSelectionChanged().
//
// A client id stays the same across reconnects, so the server recognises a resubmitted
// edit by (client id, edit id) and acknowledges it instead of applying it twice.

import { OTClient, OutOfOrder, Synchronized } from "./client.js";
import { InvalidOperation } from "./ot.js";
import { Presence } from "./presence.js";
import { Backoff, CloseCode } from "./connection.js";

// Error codes after which the same edit may be sent again later.
const RETRYABLE_ERRORS = new Set(["store-unavailable", "internal-error"]);

/** Returns a random string of `length` lowercase letters and digits. */
export function randomToken(length) {
  const bytes = new Uint8Array(length);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => (byte % 36).toString(36)).join("");
}

/** One page's session with one document: its OT client, the other editors, and timers. */
export class DocumentSync {
  constructor({
    clientId,
    name,
    color = null,
    transport,
    editor,
    timers = globalThis,
    cursorDelayMs = 50,
    ackTimeoutMs = 20_000,
    retryBackoff = new Backoff({ initialMs: 1000, maxMs: 30_000 }),
    onChange = () => {},
    onNotice = () => {},
  }) {
    Object.assign(this, { clientId, name, color, transport, editor, timers });
    Object.assign(this, { cursorDelayMs, ackTimeoutMs, retryBackoff, onChange, onNotice });

    // Edit ids must differ from those of an earlier page with the same client id,
    // or the server would take a new edit for a resubmission and drop it.
    const editPrefix = `${randomToken(8)}.`;
    let editCounter = 0;
    this.newEditId = () => `${editPrefix}${++editCounter}`;

    this.client = null; // an OTClient from the first init on
    this.presence = new Presence();
    this.joined = false; // init received on the current connection
    this.freshJoinReason = null; // when set, the next join requests the full content
    this.cursorDirty = true;
    this.cursorTimer = null;
    this.retryTimer = null;
    this.ackTimer = null;
  }

  /** Number of local changes the server has not acknowledged. */
  get unconfirmedCount() {
    return this.client ? this.client.unconfirmedCount : 0;
  }

  get synchronized() {
    return this.client !== null && this.client.state instanceof Synchronized;
  }

  // -- connection events ----------------------------------------------------------------

  connectionOpened() {
    this.sendJoin();
  }

  connectionClosed({ code }) {
    this.joined = false;
    this.clearTimer("retryTimer");
    this.clearTimer("ackTimer");
    this.clearTimer("cursorTimer");
    if (code === CloseCode.MESSAGE_TOO_BIG && this.client?.outstanding) {
      // Sending the same edit again would close the connection again.
      this.freshJoinReason = "an edit was too large for the server to accept";
    }
    this.onChange();
  }

  /** Handles one message from the server. */
  receive(message) {
    try {
      this.dispatch(message);
    } catch (error) {
      if (!(error instanceof OutOfOrder || error instanceof InvalidOperation)) throw error;
      // The local document can no longer be reconciled with the server's operations.
      console.error(`resynchronizing after ${message.type} message: ${error.message}`);
      this.resync(`the document went out of step with the server (${error.message})`);
    }
    this.onChange();
  }

  dispatch(message) {
    if (message.type === "init") {
      this.handleInit(message);
      return;
    }
    // Until the init that replies to a join, other messages belong to the previous join.
    if (!this.joined) return;

    switch (message.type) {
      case "ack":
        this.handleAck(message);
        break;
      case "update":
        this.applyServerOperation(message.op, message.rev, message.client);
        break;
      case "cursor":
        this.handleCursor(message);
        break;
      case "joined":
        if (message.client !== this.clientId) {
          this.presence.join({ ...message, cursor: this.cursorToLocal(message.cursor) });
          this.editor.presenceChanged();
        }
        break;
      case "left":
        if (this.presence.leave(message.client)) this.editor.presenceChanged();
        break;
      case "error":
        this.handleError(message);
        break;
      default:
        console.warn(`ignoring a message of unknown type ${JSON.stringify(message.type)}`);
    }
  }

  // -- server messages ------------------------------------------------------------------

  sendJoin() {
    const fresh = this.client === null || this.freshJoinReason !== null;
    const join = { type: "join", client: this.clientId, name: this.name };
    if (this.color) join.color = this.color;
    join.revision = fresh ? null : this.client.revision;
    this.joined = false;
    this.transport.send(join);
  }

  handleInit(message) {
    if ("content" in message) {
      this.loadContent(message.content, message.rev);
    } else {
      this.catchUp(message.ops, message.rev);
    }

    const editors = message.editors.filter((editor) => editor.client !== this.clientId);
    this.presence.reset(
      editors.map((editor) => ({ ...editor, cursor: this.cursorToLocal(editor.cursor) })),
    );
    this.joined = true;
    this.transport.markHealthy();
    this.editor.setEditable(true);
    this.editor.presenceChanged();

    // An edit sent before the connection dropped may never have arrived.
    const outstanding = this.client.outstanding;
    if (outstanding) this.sendEdit(outstanding);
    this.cursorDirty = true;
    this.scheduleCursor();
  }

  loadContent(content, revision) {
    const reason = this.freshJoinReason;
    this.freshJoinReason = null;
    if (this.client === null) {
      this.client = new OTClient(revision, this.newEditId);
      this.editor.setContent(content);
      return;
    }

    // The server could not send the operations since the client's revision, so the
    // unacknowledged local edits have nothing to be transformed against.
    const localText = this.client.unconfirmedCount ? this.editor.getContent() : null;
    const dropped = this.client.reset(revision);
    this.editor.setContent(content);
    if (dropped) {
      this.onNotice({
        kind: "edits-lost",
        count: dropped,
        text: localText,
        reason: reason ?? "the server no longer has the history needed to merge them",
      });
    }
  }

  catchUp(ops, revision) {
    if (this.client === null) {
      throw new OutOfOrder("the server sent operations to a client that has no content");
    }
    for (const record of ops) {
      const outstanding = this.client.outstanding;
      if (record.client === this.clientId && outstanding && record.id === outstanding.id) {
        // The edit in flight when the connection dropped was committed: this is its ack.
        // The buffered edit it returns is sent once the init is handled.
        this.client.serverAck(record.id, record.rev);
      } else {
        this.applyServerOperation(record.op, record.rev, record.client);
      }
    }
    if (this.client.revision !== revision) {
      throw new OutOfOrder(
        `init is at revision ${revision} but its operations end at ${this.client.revision}`,
      );
    }
  }

  handleAck({ id, rev }) {
    const { acknowledged, next } = this.client.serverAck(id, rev);
    if (!acknowledged) {
      // A resubmitted edit can be acknowledged twice, and the repeat changes nothing. An
      // ack of a new revision for an edit that a resync dropped can't be applied, because
      // an ack carries no operation.
      if (rev > this.client.revision) {
        this.resync(`the server committed edit ${id}, which this page had dropped`);
      }
      return;
    }

    this.clearTimer("ackTimer");
    this.clearTimer("retryTimer");
    this.retryBackoff.reset();
    if (next) this.sendEdit(next);
    this.scheduleCursor();
  }

  applyServerOperation(op, revision, author) {
    const local = this.client.applyServer(op, revision);
    this.presence.transform(local, author);
    this.editor.applyRemote(local);
  }

  handleCursor({ client, rev, anchor, head }) {
    // The server sends a cursor after every operation before it, so `rev` is normally
    // the client's revision; an older one could not be placed correctly.
    if (rev !== this.client.revision) {
      console.warn(`ignoring a cursor of ${client} on revision ${rev}, not ${this.client.revision}`);
      return;
    }
    if (this.presence.setSelection(client, this.cursorToLocal({ anchor, head }))) {
      this.editor.presenceChanged();
    }
  }

  handleError({ code, message, id }) {
    const outstanding = this.client?.outstanding;
    if (id !== undefined && outstanding && id === outstanding.id) {
      if (RETRYABLE_ERRORS.has(code)) {
        this.clearTimer("ackTimer");
        const delay = this.retryBackoff.next();
        console.warn(`edit ${id} failed (${code}: ${message}); sending it again in ${Math.round(delay)} ms`);
        this.retryTimer = this.timers.setTimeout(() => {
          this.retryTimer = null;
          const current = this.client.outstanding;
          if (current) this.sendEdit(current);
        }, delay);
        return;
      }
      // The edit can't be rebased or was rejected; only the server's content is certain.
      const reason =
        code === "resync-required"
          ? "the server could not merge them"
          : `the server rejected an edit (${code}: ${message})`;
      this.resync(reason);
      return;
    }
    if (code === "resync-required") {
      this.resync(message);
      return;
    }
    // The next selection change sends the cursor again, on the then current revision.
    if (code === "invalid-cursor") this.cursorDirty = true;
    console.warn(`server error ${code}: ${message}`);
  }

  /** Asks the server for the full content again, dropping unacknowledged edits. */
  resync(reason) {
    this.freshJoinReason = reason;
    this.clearTimer("retryTimer");
    this.clearTimer("ackTimer");
    // Joining again on an open connection is allowed, and the init replaces everything.
    this.sendJoin();
  }

  // -- local changes --------------------------------------------------------------------

  /** Takes an operation the user made in the editor. */
  localChange(op) {
    if (this.client === null) {
      throw new Error("the editor changed before the document was loaded");
    }
    this.presence.transform(op, null);
    const edit = this.client.applyLocal(op);
    if (edit) this.sendEdit(edit);
    this.cursorDirty = true;
    this.onChange();
  }

  localSelectionChanged() {
    this.cursorDirty = true;
    this.scheduleCursor();
  }

  sendEdit(edit) {
    if (!this.joined) return;
    const sent = this.transport.send({
      type: "op",
      id: edit.id,
      rev: this.client.revision,
      op: edit.op,
    });
    if (!sent) return;

    // A connection can die without a close event reaching the page; an edit that stays
    // unacknowledged this long is sent again on a new connection.
    this.clearTimer("ackTimer");
    this.ackTimer = this.timers.setTimeout(() => {
      this.ackTimer = null;
      console.warn(`no ack for edit ${edit.id} in ${this.ackTimeoutMs} ms; reconnecting`);
      this.transport.reconnect();
    }, this.ackTimeoutMs);
  }

  // The server places a cursor on the revision it names, so the client sends its cursor
  // only when the local document equals its revision, that is, when synchronized.
  scheduleCursor() {
    if (this.cursorTimer !== null) return;
    this.cursorTimer = this.timers.setTimeout(() => {
      this.cursorTimer = null;
      if (!this.joined || !this.cursorDirty || !this.synchronized) return;
      const { anchor, head } = this.editor.getSelection();
      this.cursorDirty = false;
      this.transport.send({ type: "updateCursor", rev: this.client.revision, anchor, head });
    }, this.cursorDelayMs);
  }

  cursorToLocal(cursor) {
    if (!cursor) return null;
    try {
      return this.client.selectionToLocal({ anchor: cursor.anchor, head: cursor.head });
    } catch (error) {
      if (!(error instanceof InvalidOperation)) throw error;
      console.warn(`ignoring a cursor outside the document: ${error.message}`);
      return null;
    }
  }

  clearTimer(name) {
    if (this[name] !== null) {
      this.timers.clearTimeout(this[name]);
      this[name] = null;
    }
  }
}
