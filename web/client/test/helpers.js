// Test doubles for the client: a seeded random generator, manual timers, an in-memory
// document server that speaks the WebSocket protocol's messages, and a string editor.

import { Bias, apply, fromSplice, transform, transformSelection } from "../src/ot.js";
import { codePointLength } from "../src/unicode.js";

/** Returns a seeded generator of floats in [0, 1) (mulberry32), so failures can be replayed. */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** setTimeout and clearTimeout on a clock that moves only when `advance` is called. */
export class ManualTimers {
  constructor() {
    this.now = 0;
    this.nextId = 1;
    this.pending = new Map();
  }

  setTimeout = (callback, delay = 0) => {
    const id = this.nextId++;
    this.pending.set(id, { at: this.now + delay, callback });
    return id;
  };

  clearTimeout = (id) => {
    this.pending.delete(id);
  };

  /** Moves the clock forward by `ms`, running each timer that falls due, in order. */
  advance(ms) {
    const until = this.now + ms;
    for (;;) {
      let due = null;
      for (const [id, timer] of this.pending) {
        if (timer.at <= until && (due === null || timer.at < due.timer.at)) due = { id, timer };
      }
      if (due === null) break;
      this.pending.delete(due.id);
      this.now = due.timer.at;
      due.timer.callback();
    }
    this.now = until;
  }
}

/**
 * The document server's side of the protocol, in memory: joins, edits transformed
 * against the history after their base revision, deduplication by (client, edit id),
 * and cursors moved to the current revision. `handle` returns the messages to deliver
 * as [{to, message}].
 */
export class FakeServer {
  constructor(content = "", { historyLimit = Infinity } = {}) {
    this.content = content;
    this.revision = 0;
    this.history = []; // {rev, op, client, id}, the last historyLimit operations
    this.historyLimit = historyLimit;
    this.committed = new Map(); // "client edit-id" -> revision
    this.editors = new Map(); // client -> {client, name, color, cursor}
    this.failNext = null; // an error code for the next edit, to test retries
  }

  get oldestRevision() {
    return this.history.length ? this.history[0].rev - 1 : this.revision;
  }

  historyAfter(revision) {
    if (revision > this.revision || revision < this.oldestRevision) return null;
    return this.history.slice(this.history.length - (this.revision - revision));
  }

  handle(client, message) {
    switch (message.type) {
      case "join":
        return this.join(client, message);
      case "op":
        return this.edit(client, message);
      case "updateCursor":
        return this.cursor(client, message);
      default:
        throw new Error(`fake server got unexpected message ${JSON.stringify(message)}`);
    }
  }

  join(client, { name, color, revision }) {
    const rejoining = this.editors.has(client);
    const editor = { client, name, color: color ?? "#1f77b4", cursor: null };
    this.editors.set(client, editor);
    const init = {
      type: "init",
      rev: this.revision,
      client,
      editors: [...this.editors.values()].filter((e) => e.client !== client),
    };
    const missed = revision === null ? null : this.historyAfter(revision);
    if (missed === null) init.content = this.content;
    else init.ops = missed.map((record) => ({ ...record }));
    const out = [{ to: client, message: structuredClone(init) }];
    if (!rejoining) out.push(...this.broadcast({ type: "joined", ...editor }, client));
    return out;
  }

  leave(client) {
    if (!this.editors.delete(client)) return [];
    return this.broadcast({ type: "left", client }, client);
  }

  edit(client, { id, rev, op }) {
    const key = `${client} ${id}`;
    if (this.committed.has(key)) {
      return [{ to: client, message: { type: "ack", id, rev: this.committed.get(key) } }];
    }
    if (this.failNext) {
      const code = this.failNext;
      this.failNext = null;
      return [{ to: client, message: { type: "error", code, message: "injected failure", id } }];
    }
    const concurrent = this.historyAfter(rev);
    if (concurrent === null) {
      const message = { type: "error", code: "resync-required", message: "too old", id };
      return [{ to: client, message }];
    }
    let transformed = op;
    for (const record of concurrent) transformed = transform(record.op, transformed)[1];

    this.content = apply(this.content, transformed);
    this.revision++;
    const record = { rev: this.revision, op: transformed, client, id };
    this.history.push(record);
    if (this.history.length > this.historyLimit) this.history.shift();
    this.committed.set(key, this.revision);
    for (const editor of this.editors.values()) {
      if (!editor.cursor) continue;
      const bias = editor.client === client ? Bias.AFTER : Bias.BEFORE;
      editor.cursor = transformSelection(editor.cursor, transformed, bias);
    }

    const out = [];
    if (this.editors.has(client)) {
      out.push({ to: client, message: { type: "ack", id, rev: this.revision } });
    }
    const update = { type: "update", rev: this.revision, op: transformed, client };
    return out.concat(this.broadcast(update, client));
  }

  cursor(client, { rev, anchor, head }) {
    let selection = { anchor, head };
    for (const record of this.historyAfter(rev)) {
      const bias = record.client === client ? Bias.AFTER : Bias.BEFORE;
      selection = transformSelection(selection, record.op, bias);
    }
    this.editors.get(client).cursor = selection;
    const message = { type: "cursor", client, rev: this.revision, ...selection };
    return this.broadcast(message, client);
  }

  broadcast(message, exclude) {
    return [...this.editors.keys()]
      .filter((client) => client !== exclude)
      .map((client) => ({ to: client, message: structuredClone(message) }));
  }
}

/** The editor interface of DocumentSync over a plain string, with one cursor. */
export class StringEditor {
  constructor() {
    this.content = "";
    this.selection = { anchor: 0, head: 0 };
    this.editable = false;
    this.presenceRenders = 0;
    this.sync = null;
  }

  setContent(text) {
    this.content = text;
    const end = codePointLength(text);
    this.selection = {
      anchor: Math.min(this.selection.anchor, end),
      head: Math.min(this.selection.head, end),
    };
  }

  getContent() {
    return this.content;
  }

  applyRemote(op) {
    this.content = apply(this.content, op);
    // The local cursor stays before text another editor inserts exactly at it.
    this.selection = transformSelection(this.selection, op, Bias.BEFORE);
  }

  getSelection() {
    return { ...this.selection };
  }

  setEditable(flag) {
    this.editable = flag;
  }

  presenceChanged() {
    this.presenceRenders++;
  }

  get length() {
    return codePointLength(this.content);
  }

  /** Replaces `deleteCount` code points at `pos` with `text`, as a user would. */
  splice(pos, deleteCount, text) {
    const op = fromSplice(this.length, pos, deleteCount, text);
    this.content = apply(this.content, op);
    const end = pos + codePointLength(text);
    this.selection = { anchor: end, head: end };
    this.sync.localChange(op);
    this.sync.localSelectionChanged();
  }
}
