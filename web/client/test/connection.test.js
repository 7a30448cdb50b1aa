// Tests of the reconnecting WebSocket in src/connection.js, with a fake WebSocket class
// and manual timers.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Backoff, CloseCode, ReconnectingConnection } from "../src/connection.js";
import { ManualTimers } from "./helpers.js";

class FakeWebSocket {
  static instances = [];

  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
    this.sent = [];
    this.closedWith = null;
    FakeWebSocket.instances.push(this);
  }

  send(data) {
    this.sent.push(JSON.parse(data));
  }

  close(code, reason) {
    this.closedWith = { code, reason };
  }

  // What the server does:

  accept() {
    this.onopen?.();
  }

  deliver(message) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  serverClose(code, reason = "") {
    this.onclose?.({ code, reason });
  }
}

// Lets the promise returned by resolveUrl settle.
const tick = () => new Promise((resolve) => setImmediate(resolve));

async function openConnection(options = {}) {
  FakeWebSocket.instances = [];
  const timers = new ManualTimers();
  const events = [];
  let urlCount = 0;
  const connection = new ReconnectingConnection({
    resolveUrl: async () => `ws://server-${++urlCount}/docs/d1`,
    WebSocketClass: FakeWebSocket,
    timers,
    now: () => timers.now,
    backoff: new Backoff({ initialMs: 1000, maxMs: 8000, random: () => 0.5 }),
    onOpen: () => events.push("open"),
    onMessage: (message) => events.push(message),
    onClose: ({ code }) => events.push(`close ${code}`),
    ...options,
  });
  connection.start();
  await tick();
  const socket = FakeWebSocket.instances.at(-1);
  socket.accept();
  return { connection, timers, events, socket };
}

describe("Backoff", () => {
  test("delays double up to the maximum", () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 1 });
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map(() => backoff.next()),
      [100, 200, 400, 800, 1000, 1000],
    );
  });

  test("jitter stays within half and all of the step", () => {
    const low = new Backoff({ initialMs: 100, random: () => 0 });
    const high = new Backoff({ initialMs: 100, random: () => 0.999 });
    assert.equal(low.next(), 50);
    assert.ok(high.next() < 100);
    assert.equal(low.next(), 100);
  });

  test("reset starts over", () => {
    const backoff = new Backoff({ initialMs: 100, random: () => 1 });
    backoff.next();
    backoff.next();
    backoff.reset();
    assert.equal(backoff.next(), 100);
  });
});

describe("ReconnectingConnection", () => {
  test("opens, sends JSON and passes parsed messages", async () => {
    const { connection, events, socket } = await openConnection();
    assert.equal(connection.state, "open");
    assert.ok(connection.send({ type: "join" }));
    assert.deepEqual(socket.sent, [{ type: "join" }]);
    socket.deliver({ type: "init", rev: 3 });
    assert.deepEqual(events, ["open", { type: "init", rev: 3 }]);
  });

  test("array frame passes each message in order", async () => {
    const { events, socket } = await openConnection();
    socket.deliver([{ type: "update", rev: 4 }, { type: "ack", id: "e1", rev: 5 }]);
    assert.deepEqual(events, ["open", { type: "update", rev: 4 }, { type: "ack", id: "e1", rev: 5 }]);
  });

  test("send while closed returns false", async () => {
    const { connection, socket } = await openConnection();
    socket.serverClose(CloseCode.ABNORMAL);
    assert.equal(connection.send({ type: "op" }), false);
  });

  test("going away reconnects with growing backoff", async () => {
    const { connection, timers, socket } = await openConnection();
    socket.serverClose(CloseCode.GOING_AWAY);
    assert.equal(connection.state, "waiting");
    assert.equal(connection.retryAt, 750); // half of 1000 plus half of the rest

    timers.advance(749);
    assert.equal(FakeWebSocket.instances.length, 1);
    timers.advance(1);
    await tick();
    assert.equal(FakeWebSocket.instances.length, 2);
    FakeWebSocket.instances[1].serverClose(CloseCode.ABNORMAL);
    assert.equal(connection.retryAt - timers.now, 1500);
  });

  test("healthy connection resets the backoff", async () => {
    const { connection, timers, socket } = await openConnection();
    socket.serverClose(CloseCode.ABNORMAL);
    timers.advance(750);
    await tick();
    FakeWebSocket.instances[1].serverClose(CloseCode.ABNORMAL);
    timers.advance(1500);
    await tick();
    FakeWebSocket.instances[2].accept();
    connection.markHealthy();
    FakeWebSocket.instances[2].serverClose(CloseCode.ABNORMAL);
    assert.equal(connection.retryAt - timers.now, 750);
  });

  for (const code of [
    CloseCode.REPLACED,
    CloseCode.DOCUMENT_NOT_FOUND,
    CloseCode.MALFORMED_FRAME,
    CloseCode.NOT_JOINED,
  ]) {
    test(`close ${code} stops reconnecting`, async () => {
      const { connection, timers, socket } = await openConnection();
      socket.serverClose(code);
      assert.equal(connection.state, "stopped");
      assert.ok(connection.stopReason);
      timers.advance(60_000);
      await tick();
      assert.equal(FakeWebSocket.instances.length, 1);
    });
  }

  test("document moved resolves the address again at once", async () => {
    const { connection, socket } = await openConnection();
    connection.markHealthy();
    socket.serverClose(CloseCode.DOCUMENT_MOVED);
    await tick();
    assert.equal(FakeWebSocket.instances.length, 2);
    assert.equal(FakeWebSocket.instances[1].url, "ws://server-2/docs/d1");
  });

  test("document moved twice in a row backs off", async () => {
    const { connection, socket } = await openConnection();
    socket.serverClose(CloseCode.DOCUMENT_MOVED);
    await tick();
    FakeWebSocket.instances[1].accept();
    FakeWebSocket.instances[1].serverClose(CloseCode.DOCUMENT_MOVED);
    assert.equal(connection.state, "waiting");
  });

  test("simulated offline closes and stays closed", async () => {
    const { connection, timers, events, socket } = await openConnection();
    connection.setOffline(true);
    assert.equal(connection.state, "offline");
    assert.equal(socket.closedWith.code, CloseCode.NORMAL);
    assert.ok(events.includes("close 1000"));
    timers.advance(60_000);
    await tick();
    assert.equal(FakeWebSocket.instances.length, 1);

    connection.setOffline(false);
    await tick();
    assert.equal(FakeWebSocket.instances.length, 2);
    assert.equal(connection.state, "connecting");
  });

  test("events of a dropped socket are ignored", async () => {
    const { connection, events, socket } = await openConnection();
    connection.reconnect();
    await tick();
    socket.deliver({ type: "update" });
    socket.serverClose(CloseCode.REPLACED);
    assert.equal(connection.state, "connecting");
    assert.ok(!events.some((event) => event.type === "update"));
  });

  test("browser offline event drops the socket and retries", async () => {
    const { connection, socket } = await openConnection();
    connection.networkChanged(false);
    assert.equal(socket.closedWith.code, CloseCode.NORMAL);
    assert.equal(connection.state, "waiting");
    connection.networkChanged(true);
    await tick();
    assert.equal(FakeWebSocket.instances.length, 2);
  });

  test("connect timeout retries", async () => {
    FakeWebSocket.instances = [];
    const timers = new ManualTimers();
    const connection = new ReconnectingConnection({
      resolveUrl: async () => "ws://slow/docs/d1",
      WebSocketClass: FakeWebSocket,
      timers,
      now: () => timers.now,
      connectTimeoutMs: 5000,
      backoff: new Backoff({ initialMs: 1000, random: () => 0.5 }),
    });
    connection.start();
    await tick();
    timers.advance(5000);
    assert.equal(FakeWebSocket.instances[0].closedWith.reason, "connect timeout");
    assert.equal(connection.state, "waiting");
  });

  test("failing address resolver retries", async () => {
    FakeWebSocket.instances = [];
    const timers = new ManualTimers();
    let calls = 0;
    const connection = new ReconnectingConnection({
      resolveUrl: async () => {
        calls++;
        throw new Error("router unavailable");
      },
      WebSocketClass: FakeWebSocket,
      timers,
      now: () => timers.now,
      backoff: new Backoff({ initialMs: 1000, random: () => 0.5 }),
    });
    connection.start();
    await tick();
    assert.equal(connection.state, "waiting");
    timers.advance(750);
    await tick();
    assert.equal(calls, 2);
    assert.equal(FakeWebSocket.instances.length, 0);
  });
});
