// One simulated editor per system, each a real WebSocket client through that system's own
// client library: docserver's browser client (web/client/src/sync.js), ShareDB's
// `sharedb/lib/client`, and Yjs through `@hocuspocus/provider`.
//
// Every editor has the same interface, so the worker that drives them does not know which
// system it talks to:
//
//   await editor.connect()     joins the document and resolves once its content is loaded
//   editor.edit(scheduled, rng) makes one random local edit scheduled at `scheduled`
//   editor.text                the local replica's text
//   editor.pending             true while a local edit is not acknowledged
//   editor.close()
//
// Latency bookkeeping: each edit is identified by a position in a monotone stream, known
// once the server has ordered it. docserver and ShareDB number a document's commits, so
// the stream is the document and the position its revision (version). Yjs has no global
// order: the stream is the author's client id and the position the author's clock after
// the edit, which is why every edit inserts at least one character (a Yjs delete does not
// advance the clock). `sent` lists {scheduled, stream, position} of the editor's own edits,
// and `arrivals` maps a stream to the [position, time] pairs at which this replica applied
// remote changes, in the order applied. Times are performance.now() of the worker process.

import { performance } from "node:perf_hooks";

import WebSocket from "ws";
import ShareDB from "sharedb/lib/client/index.js";
import otTextUnicode from "ot-text-unicode";
import * as Y from "yjs";
import { HocuspocusProvider, HocuspocusProviderWebsocket } from "@hocuspocus/provider";

import { DocumentSync } from "../../../web/client/src/sync.js";
import { apply as applyOperation, fromSplice } from "../../../web/client/src/ot.js";

ShareDB.types.register(otTextUnicode.type);

const LETTERS = "abcdefghijklmnopqrstuvwxyz";

/**
 * Returns a random typing edit on a document of `length` characters as {pos, remove, text}.
 * Below 300 characters it inserts 1 to 4 letters. Above, half of the edits replace 2 to 6
 * characters with one letter, so documents stay near 300 characters. Every edit inserts
 * text, because the Yjs bookkeeping needs the author's clock to advance.
 */
export function randomEdit(length, rng) {
  const pos = Math.floor(rng() * (length + 1));
  if (length >= 300 && rng() < 0.5) {
    const remove = Math.min(length - pos, 2 + Math.floor(rng() * 5));
    return { pos, remove, text: LETTERS[Math.floor(rng() * 26)] };
  }
  const size = 1 + Math.floor(rng() * 4);
  let text = "";
  for (let i = 0; i < size; i++) text += LETTERS[Math.floor(rng() * 26)];
  return { pos, remove: 0, text };
}

class EditorBase {
  constructor() {
    this.sent = [];
    this.arrivals = new Map();
  }

  recordArrival(stream, position) {
    let list = this.arrivals.get(stream);
    if (!list) {
      list = [];
      this.arrivals.set(stream, list);
    }
    list.push(position, performance.now());
  }
}

/** A docserver editor: the browser's DocumentSync over a `ws` WebSocket, JSON framing. */
export class DocserverEditor extends EditorBase {
  constructor({ port, docId, clientId }) {
    super();
    this.url = `ws://127.0.0.1:${port}/docs/${docId}`;
    this.clientId = clientId;
    this.content = "";
    this.unassigned = []; // scheduled times of local edits not yet part of a sent edit
    this.byEditId = new Map(); // edit id -> records of the local edits it carries
  }

  connect() {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url, { perMessageDeflate: false });
      this.socket = socket;
      const editor = {
        setContent: (text) => {
          this.content = text;
        },
        getContent: () => this.content,
        applyRemote: (op) => {
          this.content = applyOperation(this.content, op);
        },
        getSelection: () => ({ anchor: 0, head: 0 }),
        setEditable: () => {},
        presenceChanged: () => {},
      };
      const transport = {
        send: (message) => {
          if (socket.readyState !== WebSocket.OPEN) return false;
          if (message.type === "op" && !this.byEditId.has(message.id)) {
            this.byEditId.set(message.id, this.unassigned);
            this.unassigned = [];
          }
          socket.send(JSON.stringify(message));
          return true;
        },
        reconnect: () => reject(new Error(`editor ${this.clientId}: an edit was not acknowledged in time`)),
        markHealthy: () => {},
      };
      this.sync = new DocumentSync({ clientId: this.clientId, name: this.clientId, transport, editor });
      // Cursors are off, as presence is on the other systems, so only edits cross the wire.
      this.sync.scheduleCursor = () => {};

      socket.on("open", () => this.sync.connectionOpened());
      socket.on("message", (data) => {
        // Under load the server sends several messages as one array frame, in order.
        const parsed = JSON.parse(data.toString());
        for (const message of Array.isArray(parsed) ? parsed : [parsed]) this.handleMessage(message, resolve);
      });
      socket.on("error", reject);
      socket.on("close", (code) => {
        if (!this.closing) reject(new Error(`editor ${this.clientId}: connection closed with code ${code}`));
      });
    });
  }

  handleMessage(message, resolve) {
    if (message.type === "ack") {
      const records = this.byEditId.get(message.id);
      if (records) {
        for (const record of records) record.position = message.rev;
        this.byEditId.delete(message.id);
      }
    }
    this.sync.receive(message);
    if (message.type === "update") this.recordArrival("doc", message.rev);
    if (message.type === "init") resolve();
    if (message.type === "error") console.error(`editor ${this.clientId}: server error ${message.code}: ${message.message}`);
  }

  edit(scheduled, rng) {
    const { pos, remove, text } = randomEdit(this.content.length, rng);
    const op = fromSplice(this.content.length, pos, remove, text);
    const record = { scheduled, stream: "doc", position: null };
    this.sent.push(record);
    this.unassigned.push(record);
    this.content = applyOperation(this.content, op);
    this.sync.localChange(op);
  }

  get text() {
    return this.content;
  }

  get pending() {
    return !this.sync.synchronized;
  }

  get revision() {
    return this.sync.client ? this.sync.client.revision : null;
  }

  close() {
    this.closing = true;
    this.socket.close();
  }
}

/** A ShareDB editor: `sharedb/lib/client` with the `text-unicode` type. */
export class ShareDBEditor extends EditorBase {
  constructor({ port, docId, clientId, create = false }) {
    super();
    this.url = `ws://127.0.0.1:${port}`;
    this.docId = docId;
    this.clientId = clientId;
    this.create = create;
  }

  connect() {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url, { perMessageDeflate: false });
      this.socket = socket;
      socket.on("error", reject);
      socket.on("close", (code) => {
        if (!this.closing) reject(new Error(`editor ${this.clientId}: connection closed with code ${code}`));
      });
      this.connection = new ShareDB.Connection(socket);
      const doc = this.connection.get("docs", this.docId);
      this.doc = doc;
      doc.on("error", (error) => console.error(`editor ${this.clientId}: ${error.message}`));
      // ShareDB 7 counts a remote op in `version` before it applies the op and emits "op",
      // and counts an acknowledged op before it calls the submitOp callback.
      doc.on("op", (op, source) => {
        if (!source) this.recordArrival("doc", doc.version);
      });
      doc.subscribe((error) => {
        if (error) return reject(error);
        if (doc.type) return resolve();
        if (!this.create) return reject(new Error(`document ${this.docId} does not exist`));
        doc.create("", "text-unicode", (createError) => (createError ? reject(createError) : resolve()));
      });
    });
  }

  edit(scheduled, rng) {
    const { pos, remove, text } = randomEdit(this.doc.data.length, rng);
    const op = remove ? [pos, text, { d: remove }] : [pos, text];
    const record = { scheduled, stream: "doc", position: null };
    this.sent.push(record);
    this.doc.submitOp(op, (error) => {
      if (error) {
        console.error(`editor ${this.clientId}: submitOp failed: ${error.message}`);
        return;
      }
      record.position = this.doc.version;
    });
  }

  get text() {
    return this.doc.data;
  }

  get pending() {
    return this.doc.hasPending();
  }

  get revision() {
    return this.doc.version;
  }

  close() {
    this.closing = true;
    this.doc.destroy();
    this.connection.close();
  }
}

/** A Yjs editor: a Y.Doc synchronized by `@hocuspocus/provider` over its own WebSocket. */
export class YjsEditor extends EditorBase {
  constructor({ port, docId, clientId }) {
    super();
    this.url = `ws://127.0.0.1:${port}`;
    this.docId = docId;
    this.clientId = clientId;
  }

  connect() {
    return new Promise((resolve, reject) => {
      this.ydoc = new Y.Doc();
      this.ytext = this.ydoc.getText("text");
      this.ydoc.on("afterTransaction", (transaction) => {
        if (transaction.local) return;
        for (const [client, clock] of transaction.afterState) {
          if (clock > (transaction.beforeState.get(client) ?? 0)) this.recordArrival(client, clock);
        }
      });
      class QuietWebSocket extends WebSocket {
        constructor(url, protocols) {
          super(url, protocols, { perMessageDeflate: false });
        }
      }
      this.socketProvider = new HocuspocusProviderWebsocket({
        url: this.url,
        WebSocketPolyfill: QuietWebSocket,
        maxAttempts: 1,
        // Idle connections get no messages; keep the provider from reconnecting them.
        messageReconnectTimeout: 3_600_000,
      });
      this.provider = new HocuspocusProvider({
        websocketProvider: this.socketProvider,
        name: this.docId,
        document: this.ydoc,
        // No awareness (presence), as cursors are off on the other systems.
        awareness: null,
        onSynced: () => resolve(),
        onAuthenticationFailed: () => reject(new Error(`editor ${this.clientId}: authentication failed`)),
      });
      this.provider.attach();
      this.socketProvider.on("close", ({ event }) => {
        if (!this.closing) reject(new Error(`editor ${this.clientId}: connection closed with code ${event?.code}`));
      });
    });
  }

  edit(scheduled, rng) {
    const { pos, remove, text } = randomEdit(this.ytext.length, rng);
    this.ydoc.transact(() => {
      if (remove) this.ytext.delete(pos, remove);
      this.ytext.insert(pos, text);
    });
    const position = Y.getState(this.ydoc.store, this.ydoc.clientID);
    this.sent.push({ scheduled, stream: this.ydoc.clientID, position });
  }

  get text() {
    return this.ytext.toString();
  }

  get pending() {
    return this.provider.hasUnsyncedChanges;
  }

  get revision() {
    return null;
  }

  close() {
    this.closing = true;
    this.provider.destroy();
    this.socketProvider.destroy();
  }
}

export const EDITOR_CLASSES = {
  docserver: DocserverEditor,
  "docserver-cassandra": DocserverEditor,
  sharedb: ShareDBEditor,
  yjs: YjsEditor,
};
