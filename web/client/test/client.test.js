// Tests of the OT client state machine in src/client.js.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  AwaitingConfirm,
  AwaitingWithBuffer,
  OTClient,
  OutOfOrder,
  Synchronized,
} from "../src/client.js";
import { apply, fromSplice, transform } from "../src/ot.js";
import { seededRandom } from "./helpers.js";

function newClient(revision = 0) {
  let counter = 0;
  return new OTClient(revision, () => `e${++counter}`);
}

describe("OTClient transitions", () => {
  test("starts synchronized", () => {
    const client = newClient(4);
    assert.ok(client.state instanceof Synchronized);
    assert.equal(client.revision, 4);
    assert.equal(client.outstanding, null);
    assert.equal(client.unconfirmedCount, 0);
  });

  test("local op when synchronized is sent", () => {
    const client = newClient();
    const edit = client.applyLocal(["a"]);
    assert.deepEqual(edit, { id: "e1", op: ["a"], count: 1 });
    assert.ok(client.state instanceof AwaitingConfirm);
    assert.equal(client.outstanding, edit);
  });

  test("local op while awaiting goes to the buffer", () => {
    const client = newClient();
    client.applyLocal(["a"]);
    assert.equal(client.applyLocal([1, "b"]), null);
    assert.ok(client.state instanceof AwaitingWithBuffer);
    assert.deepEqual(client.state.buffer.op, [1, "b"]);
    assert.equal(client.unconfirmedCount, 2);
  });

  test("buffered ops compose", () => {
    const client = newClient();
    client.applyLocal(["a"]);
    client.applyLocal([1, "b"]);
    client.applyLocal([2, "c"]);
    assert.deepEqual(client.state.buffer.op, [1, "bc"]);
    assert.equal(client.state.buffer.count, 2);
    assert.equal(client.unconfirmedCount, 3);
  });

  test("ack when awaiting confirm synchronizes", () => {
    const client = newClient(7);
    client.applyLocal(["a"]);
    assert.deepEqual(client.serverAck("e1", 8), { acknowledged: true, next: null });
    assert.ok(client.state instanceof Synchronized);
    assert.equal(client.revision, 8);
  });

  test("ack with buffer sends the buffer", () => {
    const client = newClient();
    client.applyLocal(["a"]);
    client.applyLocal([1, "b"]);
    const { acknowledged, next } = client.serverAck("e1", 1);
    assert.ok(acknowledged);
    assert.deepEqual(next, { id: "e2", op: [1, "b"], count: 1 });
    assert.ok(client.state instanceof AwaitingConfirm);
    assert.equal(client.outstanding, next);
  });

  test("ack of another edit id changes nothing", () => {
    const client = newClient(3);
    client.applyLocal(["a"]);
    assert.deepEqual(client.serverAck("e0", 4), { acknowledged: false, next: null });
    assert.ok(client.state instanceof AwaitingConfirm);
    assert.equal(client.revision, 3);
  });

  test("ack when synchronized changes nothing", () => {
    const client = newClient(3);
    assert.equal(client.serverAck("e1", 4).acknowledged, false);
    assert.equal(client.revision, 3);
  });

  test("ack for a skipped revision throws", () => {
    const client = newClient(3);
    client.applyLocal(["a"]);
    assert.throws(() => client.serverAck("e1", 5), OutOfOrder);
  });

  test("server op when synchronized applies unchanged", () => {
    const client = newClient(2);
    assert.deepEqual(client.applyServer([1, "x"], 3), [1, "x"]);
    assert.equal(client.revision, 3);
  });

  test("server op for a skipped revision throws", () => {
    const client = newClient(2);
    assert.throws(() => client.applyServer(["x"], 4), OutOfOrder);
    assert.equal(client.revision, 2);
  });

  test("server op transforms the outstanding edit", () => {
    // Document "ab": the client inserted X at 1, the server inserted Y at 0.
    const client = newClient();
    client.applyLocal([1, "X", 1]);
    const local = client.applyServer(["Y", 2], 1);
    assert.deepEqual(local, ["Y", 3]);
    assert.deepEqual(client.outstanding.op, [2, "X", 1]);
    assert.equal(client.outstanding.id, "e1");
  });

  test("server insert wins a tie", () => {
    const client = newClient();
    client.applyLocal([1, "mine", 1]);
    const local = client.applyServer([1, "theirs", 1], 1);
    // The server's text goes first, as the server orders the two.
    assert.equal(apply(apply("ab", [1, "mine", 1]), local), "atheirsmineb");
    assert.deepEqual(client.outstanding.op, [7, "mine", 1]);
  });

  test("server op transforms outstanding and buffer", () => {
    const doc = "hello";
    const client = newClient();
    const outstanding = fromSplice(5, 5, 0, "!");
    const buffer = fromSplice(6, 0, 0, ">");
    client.applyLocal(outstanding);
    client.applyLocal(buffer);
    const server = fromSplice(5, 1, 3, "EY");

    const local = client.applyServer(server, 1);

    const localDoc = apply(apply(apply(doc, outstanding), buffer), local);
    const serverDoc = apply(apply(apply(doc, server), client.outstanding.op), client.state.buffer.op);
    assert.equal(localDoc, ">hEYo!");
    assert.equal(serverDoc, localDoc);
  });

  test("selection moves past pending edits", () => {
    const client = newClient();
    client.applyLocal(["ab", 3]);
    client.applyLocal([5, "c"]);
    assert.deepEqual(client.selectionToLocal({ anchor: 0, head: 3 }), { anchor: 0, head: 5 });
  });

  test("reset drops pending edits", () => {
    const client = newClient();
    client.applyLocal(["a"]);
    client.applyLocal([1, "b"]);
    assert.equal(client.reset(9), 2);
    assert.ok(client.state instanceof Synchronized);
    assert.equal(client.revision, 9);
  });
});

// Two clients and a server exchange messages in a random order decided by a seed;
// every document must end equal. A failing seed replays exactly.
describe("OTClient convergence", () => {
  function randomOp(random, doc) {
    const length = [...doc].length;
    const pos = Math.floor(random() * (length + 1));
    if (length > pos && random() < 0.35) {
      return fromSplice(length, pos, 1 + Math.floor(random() * Math.min(3, length - pos)), "");
    }
    const texts = ["a", "é", "😀", "\n", "xy", "👩‍💻"];
    return fromSplice(length, pos, 0, texts[Math.floor(random() * texts.length)]);
  }

  for (let seed = 1; seed <= 40; seed++) {
    test(`seed ${seed}`, () => {
      const random = seededRandom(seed);
      const server = { doc: "start", history: [] };
      const clients = [0, 1].map((index) => ({
        index,
        doc: "start",
        ot: newClient(),
        inbox: [], // messages from the server, in order
        outbox: [], // edits on their way to the server, in order
      }));

      const receiveAtServer = (client) => {
        const { id, rev, op } = client.outbox.shift();
        let transformed = op;
        for (const record of server.history.slice(rev)) transformed = transform(record, transformed)[1];
        server.doc = apply(server.doc, transformed);
        server.history.push(transformed);
        const revision = server.history.length;
        for (const other of clients) {
          other.inbox.push(
            other === client ? { ack: id, rev: revision } : { op: transformed, rev: revision },
          );
        }
      };
      const send = (client, edit) => {
        if (edit) client.outbox.push({ id: edit.id, rev: client.ot.revision, op: edit.op });
      };
      const receiveAtClient = (client) => {
        const message = client.inbox.shift();
        if (message.ack) {
          const { acknowledged, next } = client.ot.serverAck(message.ack, message.rev);
          assert.ok(acknowledged);
          send(client, next);
        } else {
          client.doc = apply(client.doc, client.ot.applyServer(message.op, message.rev));
        }
      };

      for (let step = 0; step < 120; step++) {
        const client = clients[Math.floor(random() * 2)];
        const roll = random();
        if (roll < 0.4) {
          const op = randomOp(random, client.doc);
          client.doc = apply(client.doc, op);
          send(client, client.ot.applyLocal(op));
        } else if (roll < 0.7 && client.outbox.length) {
          receiveAtServer(client);
        } else if (client.inbox.length) {
          receiveAtClient(client);
        }
      }
      while (clients.some((c) => c.outbox.length || c.inbox.length)) {
        for (const client of clients) {
          while (client.outbox.length) receiveAtServer(client);
          while (client.inbox.length) receiveAtClient(client);
        }
      }

      for (const client of clients) {
        assert.equal(client.doc, server.doc, `client ${client.index} differs from the server`);
        assert.ok(client.ot.state instanceof Synchronized);
        assert.equal(client.ot.revision, server.history.length);
      }
    });
  }
});
