// Tests of DocumentSync in src/sync.js against an in-memory server, with connections
// that drop and frames that are lost the way a real network loses them.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Synchronized } from "../src/client.js";
import { CloseCode } from "../src/connection.js";
import { DocumentSync } from "../src/sync.js";
import { FakeServer, ManualTimers, StringEditor, seededRandom } from "./helpers.js";

/** The server and the clients connected to it, with a queue of frames in each direction. */
class Network {
  constructor(server = new FakeServer()) {
    this.server = server;
    this.timers = new ManualTimers();
    this.peers = new Map();
  }

  add(clientId, name = clientId) {
    const peer = new Peer(this, clientId, name);
    this.peers.set(clientId, peer);
    return peer;
  }

  route(outgoing) {
    for (const { to, message } of outgoing) {
      const peer = this.peers.get(to);
      if (peer?.open) peer.toClient.push(message);
    }
  }

  /** Delivers every queued frame, and runs timers, until nothing moves. */
  settle() {
    for (let round = 0; round < 1000; round++) {
      let moved = false;
      for (const peer of this.peers.values()) {
        while (peer.toServer.length) moved = peer.deliverToServer() || moved;
        while (peer.toClient.length) moved = peer.deliverToClient() || moved;
      }
      this.timers.advance(100);
      if (!moved && [...this.peers.values()].every((p) => !p.toServer.length && !p.toClient.length)) {
        return;
      }
    }
    throw new Error("the network did not settle in 1000 rounds");
  }
}

class Peer {
  constructor(network, clientId, name) {
    this.network = network;
    this.clientId = clientId;
    this.open = false;
    this.toServer = [];
    this.toClient = [];
    this.sent = [];
    this.notices = [];
    this.editor = new StringEditor();
    const transport = {
      send: (message) => {
        if (!this.open) return false;
        this.toServer.push(message);
        this.sent.push(message);
        return true;
      },
      reconnect: () => {
        this.disconnect();
        this.connect();
      },
      markHealthy: () => {},
    };
    this.sync = new DocumentSync({
      clientId,
      name,
      transport,
      editor: this.editor,
      timers: network.timers,
      onNotice: (notice) => this.notices.push(notice),
    });
    this.editor.sync = this.sync;
  }

  connect() {
    this.open = true;
    this.sync.connectionOpened();
  }

  /**
   * Drops the connection. The server still processes the first `delivered` frames that
   * the client sent, as TCP delivers a prefix of them. The other frames to the server and
   * every frame to the client are lost.
   */
  disconnect({ delivered = 0, code = CloseCode.ABNORMAL } = {}) {
    if (!this.open) return;
    for (const message of this.toServer.slice(0, delivered)) {
      this.network.route(this.network.server.handle(this.clientId, message));
    }
    this.open = false;
    this.toServer = [];
    this.toClient = [];
    this.network.route(this.network.server.leave(this.clientId));
    this.sync.connectionClosed({ code });
  }

  deliverToServer() {
    const message = this.toServer.shift();
    if (!message) return false;
    this.network.route(this.network.server.handle(this.clientId, message));
    return true;
  }

  deliverToClient() {
    const message = this.toClient.shift();
    if (!message) return false;
    this.sync.receive(message);
    return true;
  }

  sentOfType(type) {
    return this.sent.filter((message) => message.type === type);
  }
}

function joinedPeers(names, content = "") {
  const network = new Network(new FakeServer(content));
  const peers = names.map((name) => network.add(name));
  for (const peer of peers) peer.connect();
  network.settle();
  return { network, peers };
}

describe("DocumentSync", () => {
  test("first join loads the content", () => {
    const { network, peers } = joinedPeers(["alice"], "héllo 😀");
    const [alice] = peers;
    assert.deepEqual(alice.sent[0], { type: "join", client: "alice", name: "alice", revision: null });
    assert.equal(alice.editor.content, "héllo 😀");
    assert.ok(alice.editor.editable);
    assert.ok(alice.sync.joined);
    assert.equal(alice.sync.client.revision, network.server.revision);
  });

  test("local edit is sent and acknowledged", () => {
    const { network, peers } = joinedPeers(["alice"], "ab");
    const [alice] = peers;
    alice.editor.splice(1, 0, "😀");
    const [edit] = alice.sentOfType("op");
    assert.deepEqual(edit.op, [1, "😀", 1]);
    assert.equal(edit.rev, 0);
    assert.equal(alice.sync.unconfirmedCount, 1);
    network.settle();
    assert.ok(alice.sync.synchronized);
    assert.equal(network.server.content, "a😀b");
  });

  test("only one edit is in flight", () => {
    const { network, peers } = joinedPeers(["alice"]);
    const [alice] = peers;
    alice.editor.splice(0, 0, "a");
    alice.editor.splice(1, 0, "b");
    alice.editor.splice(2, 0, "c");
    assert.equal(alice.sentOfType("op").length, 1);
    assert.equal(alice.sync.unconfirmedCount, 3);
    network.settle();
    const ops = alice.sentOfType("op");
    assert.equal(ops.length, 2);
    assert.deepEqual(ops[1].op, [1, "bc"]);
    assert.equal(network.server.content, "abc");
  });

  test("edits made offline are sent after reconnecting", () => {
    const { network, peers } = joinedPeers(["alice", "bob"], "base");
    const [alice, bob] = peers;
    alice.disconnect();
    alice.editor.splice(4, 0, "!");
    alice.editor.splice(0, 0, "¡");
    bob.editor.splice(2, 0, "-");
    network.settle();
    assert.equal(alice.sync.unconfirmedCount, 2);
    assert.equal(alice.sentOfType("op").length, 0);

    alice.connect();
    network.settle();
    assert.equal(network.server.content, "¡ba-se!");
    assert.equal(alice.editor.content, "¡ba-se!");
    assert.equal(bob.editor.content, "¡ba-se!");
    assert.equal(alice.sentOfType("join").at(-1).revision, 0);
  });

  test("edit committed before the ack was lost is not applied twice", () => {
    const { network, peers } = joinedPeers(["alice", "bob"], "x");
    const [alice, bob] = peers;
    alice.editor.splice(1, 0, "A");
    // The server commits the edit, but the connection drops before the ack arrives.
    alice.disconnect({ delivered: 1 });
    bob.editor.splice(0, 0, "B");
    network.settle();

    alice.connect();
    network.settle();
    assert.equal(network.server.content, "BxA");
    assert.equal(alice.editor.content, "BxA");
    assert.ok(alice.sync.synchronized);
    // The init's operations held the edit, so it counted as the ack and was not resent.
    assert.equal(alice.sentOfType("op").length, 1);
  });

  test("resent edit is acknowledged once", () => {
    const { network, peers } = joinedPeers(["alice"], "");
    const [alice] = peers;
    alice.editor.splice(0, 0, "a");
    alice.editor.splice(1, 0, "b");
    // The server got the first edit; its ack was lost, and the init comes from a
    // server that has the edit in its history.
    alice.disconnect({ delivered: 1 });
    alice.connect();
    network.settle();
    assert.equal(network.server.content, "ab");
    assert.equal(alice.editor.content, "ab");
    assert.equal(network.server.revision, 2);
  });

  test("edit of the old connection committed after rejoining", () => {
    const { network, peers } = joinedPeers(["alice", "bob"], "");
    const [alice, bob] = peers;
    alice.editor.splice(0, 0, "a");
    // The server queued the edit of the old connection but commits it only after the
    // client joined again, so the init lacks it and the client resends it.
    const [late] = alice.toServer;
    alice.disconnect();
    alice.connect();
    alice.deliverToServer(); // the join
    alice.deliverToClient(); // its init, followed by the resent edit
    network.route(network.server.handle("alice", late));
    network.settle();

    assert.equal(network.server.content, "a");
    assert.equal(network.server.revision, 1);
    assert.equal(alice.editor.content, "a");
    assert.equal(bob.editor.content, "a");
    assert.ok(alice.sync.synchronized);
    assert.equal(alice.sync.client.revision, 1);
    const ids = alice.sentOfType("op").map((op) => op.id);
    assert.equal(ids.length, 2);
    assert.equal(ids[1], ids[0]);
  });

  test("repeated ack of an old revision is ignored", () => {
    const { network, peers } = joinedPeers(["alice"], "");
    const [alice] = peers;
    alice.editor.splice(0, 0, "a");
    network.settle();
    const [edit] = alice.sentOfType("op");
    alice.sync.receive({ type: "ack", id: edit.id, rev: 1 });
    alice.editor.splice(1, 0, "b");
    network.settle();
    assert.equal(network.server.content, "ab");
    assert.equal(alice.sentOfType("join").length, 1);
  });

  test("ack of a new revision for an unknown edit resyncs", () => {
    const { network, peers } = joinedPeers(["alice"], "text");
    const [alice] = peers;
    alice.sync.receive({ type: "ack", id: "dropped.1", rev: 1 });
    assert.equal(alice.sentOfType("join").at(-1).revision, null);
    network.settle();
    assert.ok(alice.sync.synchronized);
    assert.equal(alice.editor.content, "text");
  });

  test("store-unavailable resends the same edit later", () => {
    const { network, peers } = joinedPeers(["alice"], "");
    const [alice] = peers;
    network.server.failNext = "store-unavailable";
    alice.editor.splice(0, 0, "a");
    alice.deliverToServer();
    alice.deliverToClient();
    assert.equal(alice.sentOfType("op").length, 1);
    network.timers.advance(2000);
    const ops = alice.sentOfType("op");
    assert.equal(ops.length, 2);
    assert.equal(ops[1].id, ops[0].id);
    network.settle();
    assert.equal(network.server.content, "a");
    assert.ok(alice.sync.synchronized);
  });

  test("rejected edit resyncs and reports the loss", () => {
    const { network, peers } = joinedPeers(["alice"], "server");
    const [alice] = peers;
    network.server.failNext = "document-too-large";
    alice.editor.splice(0, 0, "big");
    network.settle();
    assert.equal(alice.editor.content, "server");
    assert.equal(alice.notices.length, 1);
    assert.equal(alice.notices[0].kind, "edits-lost");
    assert.equal(alice.notices[0].count, 1);
    assert.equal(alice.notices[0].text, "bigserver");
    assert.match(alice.notices[0].reason, /document-too-large/);
    assert.equal(alice.sentOfType("join").at(-1).revision, null);
  });

  test("history too short loads content and reports lost edits", () => {
    const network = new Network(new FakeServer("", { historyLimit: 2 }));
    const alice = network.add("alice");
    const bob = network.add("bob");
    alice.connect();
    bob.connect();
    network.settle();
    alice.disconnect();
    alice.editor.splice(0, 0, "A");
    for (const letter of "xyz") {
      bob.editor.splice(bob.editor.length, 0, letter);
      network.settle();
    }

    alice.connect();
    network.settle();
    assert.equal(alice.editor.content, "xyz");
    assert.equal(alice.notices.length, 1);
    assert.equal(alice.notices[0].text, "A");
    assert.ok(alice.sync.synchronized);
  });

  test("message-too-big close drops the edit on the next join", () => {
    const { network, peers } = joinedPeers(["alice"], "");
    const [alice] = peers;
    alice.editor.splice(0, 0, "huge");
    alice.disconnect({ code: CloseCode.MESSAGE_TOO_BIG });
    alice.connect();
    network.settle();
    assert.equal(alice.sentOfType("join").at(-1).revision, null);
    assert.equal(alice.editor.content, "");
    assert.match(alice.notices[0].reason, /too large/);
  });

  test("ack timeout reconnects and resends", () => {
    const { network, peers } = joinedPeers(["alice"], "");
    const [alice] = peers;
    alice.editor.splice(0, 0, "a");
    alice.toServer = []; // the frame vanishes and no close event arrives
    network.timers.advance(20_000);
    network.settle();
    assert.equal(alice.sentOfType("op").length, 2);
    assert.equal(network.server.content, "a");
  });
});

describe("DocumentSync cursors", () => {
  test("cursor is sent only when synchronized", () => {
    const { network, peers } = joinedPeers(["alice"], "abc");
    const [alice] = peers;
    const before = alice.sentOfType("updateCursor").length;
    alice.editor.splice(3, 0, "d");
    network.timers.advance(100);
    assert.equal(alice.sentOfType("updateCursor").length, before);
    network.settle();
    const cursors = alice.sentOfType("updateCursor");
    assert.deepEqual(cursors.at(-1), { type: "updateCursor", rev: 1, anchor: 4, head: 4 });
  });

  test("remote cursor moves through later edits", () => {
    const { network, peers } = joinedPeers(["alice", "bob"], "hello world");
    const [alice, bob] = peers;
    bob.editor.selection = { anchor: 6, head: 11 };
    bob.sync.localSelectionChanged();
    network.settle();
    assert.deepEqual(alice.sync.presence.peers.get("bob").selection, { anchor: 6, head: 11 });

    alice.editor.splice(0, 0, "😀 ");
    assert.deepEqual(alice.sync.presence.peers.get("bob").selection, { anchor: 8, head: 13 });
    network.settle();
    assert.deepEqual(alice.sync.presence.peers.get("bob").selection, bob.editor.selection);
  });

  test("insert at a remote cursor leaves it before", () => {
    const { network, peers } = joinedPeers(["alice", "bob"], "ab");
    const [alice, bob] = peers;
    bob.editor.selection = { anchor: 1, head: 1 };
    bob.sync.localSelectionChanged();
    network.settle();
    alice.editor.splice(1, 0, "X");
    assert.deepEqual(alice.sync.presence.peers.get("bob").selection, { anchor: 1, head: 1 });
  });

  test("cursor of a typing editor moves after its text", () => {
    const { network, peers } = joinedPeers(["alice", "bob"], "ab");
    const [alice, bob] = peers;
    bob.editor.selection = { anchor: 1, head: 1 };
    bob.sync.localSelectionChanged();
    network.settle();
    bob.editor.splice(1, 0, "X");
    bob.deliverToServer();
    alice.deliverToClient();
    assert.deepEqual(alice.sync.presence.peers.get("bob").selection, { anchor: 2, head: 2 });
  });

  test("remote cursor is placed past pending local edits", () => {
    const { network, peers } = joinedPeers(["alice", "bob"], "abc");
    const [alice, bob] = peers;
    alice.disconnect();
    alice.editor.splice(0, 0, "12");
    bob.editor.selection = { anchor: 2, head: 2 };
    bob.sync.localSelectionChanged();
    network.settle();
    alice.connect();
    alice.deliverToServer(); // the join; the init carries bob's cursor on the server's revision
    alice.deliverToClient();
    assert.deepEqual(alice.sync.presence.peers.get("bob").selection, { anchor: 4, head: 4 });
  });

  test("editor leaving removes its cursor", () => {
    const { network, peers } = joinedPeers(["alice", "bob"], "abc");
    const [alice, bob] = peers;
    assert.ok(alice.sync.presence.peers.has("bob"));
    bob.disconnect();
    network.settle();
    assert.ok(!alice.sync.presence.peers.has("bob"));
  });
});

// Three clients edit at random while connections drop and frames are lost; the seed
// decides everything, so a failure replays exactly.
describe("DocumentSync random sessions", () => {
  // Each client inserts characters no other client uses, so a lost or doubled
  // character shows in the final text.
  const ALPHABETS = [0x4e00, 0x1f300, 0x00c0];

  function run(seed, { deletes }) {
    const random = seededRandom(seed);
    const network = new Network(new FakeServer("seed text"));
    const peers = ["a", "b", "c"].map((id) => network.add(id));
    const inserted = [];
    const counters = [0, 0, 0];

    for (const peer of peers) peer.connect();
    for (let step = 0; step < 400; step++) {
      const index = Math.floor(random() * peers.length);
      const peer = peers[index];
      const roll = random();
      if (roll < 0.3 && peer.sync.client) {
        const length = peer.editor.length;
        const pos = Math.floor(random() * (length + 1));
        if (deletes && pos < length && random() < 0.3) {
          peer.editor.splice(pos, 1, "");
        } else {
          let text = "";
          for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
            text += String.fromCodePoint(ALPHABETS[index] + counters[index]++);
          }
          inserted.push(...text);
          peer.editor.splice(pos, 0, random() < 0.1 ? `${text}\n` : text);
        }
      } else if (roll < 0.55) {
        peer.deliverToServer();
      } else if (roll < 0.85) {
        peer.deliverToClient();
      } else if (roll < 0.9) {
        network.timers.advance(60);
      } else if (roll < 0.95) {
        peer.disconnect({ delivered: Math.floor(random() * (peer.toServer.length + 1)) });
      } else if (!peer.open) {
        peer.connect();
      } else {
        peer.editor.selection = { anchor: 0, head: Math.floor(random() * (peer.editor.length + 1)) };
        peer.sync.localSelectionChanged();
      }
    }
    for (const peer of peers) if (!peer.open) peer.connect();
    network.settle();
    return { network, peers, inserted };
  }

  function assertConverged({ network, peers }) {
    for (const peer of peers) {
      assert.equal(peer.editor.content, network.server.content, `client ${peer.clientId}`);
      assert.ok(peer.sync.client.state instanceof Synchronized, `client ${peer.clientId} state`);
      assert.deepEqual(peer.notices, [], `client ${peer.clientId} lost edits`);
      for (const other of peers) {
        if (other === peer) continue;
        assert.deepEqual(
          peer.sync.presence.peers.get(other.clientId)?.selection,
          other.editor.selection,
          `${peer.clientId}'s view of ${other.clientId}'s cursor`,
        );
      }
    }
  }

  for (let seed = 1; seed <= 30; seed++) {
    test(`inserts only, seed ${seed}`, () => {
      const result = run(seed, { deletes: false });
      assertConverged(result);
      const counts = new Map();
      for (const char of result.network.server.content) counts.set(char, (counts.get(char) ?? 0) + 1);
      for (const char of result.inserted) {
        assert.equal(counts.get(char), 1, `U+${char.codePointAt(0).toString(16)} count`);
      }
    });
  }

  for (let seed = 101; seed <= 130; seed++) {
    test(`inserts and deletes, seed ${seed}`, () => {
      assertConverged(run(seed, { deletes: true }));
    });
  }
});
