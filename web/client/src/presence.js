// The other editors of a document and their selections, kept in code points of the
// local document.
//
// A selection the server sends is on the server's revision. The caller moves it into
// the local document (past the unacknowledged local edits) before storing it here,
// and every operation later applied to the local document moves it again.

import { Bias, InvalidOperation, transformSelection } from "./ot.js";

/**
 * One other editor: {client, name, color, selection}, where `selection` is
 * {anchor, head} in code points or null when the editor has not placed a cursor.
 */
export class Presence {
  constructor() {
    this.peers = new Map();
  }

  /** Replaces every peer with `editors` from an init message, their cursors already local. */
  reset(editors) {
    this.peers.clear();
    for (const editor of editors) this.join(editor);
  }

  /** Adds or replaces one peer. */
  join({ client, name, color, cursor }) {
    this.peers.set(client, {
      client,
      name: name || client,
      color: color || "#7f7f7f",
      selection: cursor ? { anchor: cursor.anchor, head: cursor.head } : null,
    });
  }

  /** Removes a peer and returns whether it was present. */
  leave(client) {
    return this.peers.delete(client);
  }

  /** Sets a peer's selection; a cursor for an unknown peer is ignored and returns false. */
  setSelection(client, selection) {
    const peer = this.peers.get(client);
    if (!peer) return false;
    peer.selection = selection;
    return true;
  }

  /**
   * Moves every selection through an operation applied to the local document.
   *
   * `author` is the client that made the operation, or null for a local edit. The
   * author's own cursor moves past its inserted text, as the server moves it, and every
   * other cursor stays before text inserted exactly at it.
   */
  transform(op, author = null) {
    for (const peer of this.peers.values()) {
      if (!peer.selection) continue;
      const bias = peer.client === author ? Bias.AFTER : Bias.BEFORE;
      try {
        peer.selection = transformSelection(peer.selection, op, bias);
      } catch (error) {
        if (!(error instanceof InvalidOperation)) throw error;
        // A selection that no longer fits is hidden until the peer sends a new one.
        console.warn(`dropping the cursor of ${peer.client}: ${error.message}`);
        peer.selection = null;
      }
    }
  }

  /** Returns the peers in join order. */
  list() {
    return [...this.peers.values()];
  }
}
