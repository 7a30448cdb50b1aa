// A load-generator process, started by load.mjs with child_process.fork. It holds every
// editor of the documents it is given, so one clock (performance.now()) times both the
// scheduled send of an edit and its application at each other editor of the document.
//
// Requests from the parent, each with one reply:
//   {cmd: "setup", system, port, docs: [{docId, editors}], seed}  -> {type: "ready", connected}
//   {cmd: "run", startAt, warmupMs, measureMs, rate}               -> {type: "result", ...}
//   {cmd: "close"}                                                  -> {type: "closed"}
// `startAt` is an epoch time in milliseconds (performance.timeOrigin + performance.now()).

import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";

import { EDITOR_CLASSES } from "./editors.mjs";

const CONNECT_CONCURRENCY = 64;
const DRAIN_TIMEOUT_MS = 30_000;

let documents = []; // [{docId, editors: [editor, ...]}]

/** Returns a seeded pseudo-random generator in [0, 1) (mulberry32). */
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function runLimited(tasks, limit) {
  let next = 0;
  async function lane() {
    while (next < tasks.length) {
      const task = tasks[next++];
      await task();
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
}

async function setup({ system, port, docs, seed }) {
  const EditorClass = EDITOR_CLASSES[system];
  documents = docs.map(({ docId, editors }) => ({
    docId,
    editors: Array.from(
      { length: editors },
      (_, i) => new EditorClass({ port, docId, clientId: `s${seed}-${docId}-${i}`.slice(0, 64), create: i === 0 }),
    ),
  }));

  // The first editor of a document connects alone, because a ShareDB document must be
  // created before others subscribe to it.
  await runLimited(documents.map((doc) => () => doc.editors[0].connect()), CONNECT_CONCURRENCY);
  const rest = documents.flatMap((doc) => doc.editors.slice(1).map((editor) => () => editor.connect()));
  await runLimited(rest, CONNECT_CONCURRENCY);
  return { type: "ready", connected: documents.reduce((sum, doc) => sum + doc.editors.length, 0) };
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Makes every editor type at `rate` edits per second, open loop, from startAt on. */
function typeEdits({ startAt, warmupMs, measureMs, rate }, rng, lags) {
  const start = startAt - performance.timeOrigin;
  const measureStart = start + warmupMs;
  const end = measureStart + measureMs;
  const period = 1000 / rate;
  const timers = [];

  for (const doc of documents) {
    for (const editor of doc.editors) {
      let next = start + rng() * period;
      const tick = () => {
        const now = performance.now();
        // Edits whose time has passed are all made now and keep their scheduled times, so
        // a slow harness or server shows up as latency instead of as fewer edits.
        while (next <= now && next < end) {
          editor.edit(next, rng);
          if (next >= measureStart) lags.push(now - next);
          next += period;
        }
        if (next < end) timers.push(setTimeout(tick, Math.max(0, next - performance.now())));
      };
      timers.push(setTimeout(tick, Math.max(0, next - performance.now())));
    }
  }
  return { measureStart, end };
}

function replicasAgree(doc) {
  const first = doc.editors[0];
  return doc.editors.every(
    (editor) => !editor.pending && editor.text === first.text && editor.revision === first.revision,
  );
}

/** Computes edit-to-peer latencies of edits scheduled in [measureStart, end). */
function collectLatencies(doc, measureStart, end) {
  const latencies = [];
  let unacknowledged = 0;
  let undelivered = 0;

  const byStream = new Map();
  for (const editor of doc.editors) {
    for (const record of editor.sent) {
      if (record.scheduled < measureStart || record.scheduled >= end) continue;
      if (record.position === null) {
        unacknowledged++;
        continue;
      }
      let list = byStream.get(record.stream);
      if (!list) byStream.set(record.stream, (list = []));
      list.push({ ...record, author: editor });
    }
  }

  for (const [stream, records] of byStream) {
    records.sort((a, b) => a.position - b.position);
    for (const receiver of doc.editors) {
      const arrivals = receiver.arrivals.get(stream) ?? [];
      let index = 0; // arrivals contains flattened [position, time] pairs
      for (const record of records) {
        if (record.author === receiver) continue;
        while (index < arrivals.length && arrivals[index] < record.position) index += 2;
        if (index >= arrivals.length) {
          undelivered++;
          continue;
        }
        latencies.push(arrivals[index + 1] - record.scheduled);
      }
    }
  }
  return { latencies, unacknowledged, undelivered };
}

async function run(options) {
  const rng = seededRandom(options.seed ?? 1);
  const lags = [];
  const { measureStart, end } = typeEdits(options, rng, lags);
  await sleep(end - performance.now() + 10);

  // Drain: wait until every edit is acknowledged and all replicas of a document agree.
  const drainStart = performance.now();
  while (!documents.every(replicasAgree) && performance.now() - drainStart < DRAIN_TIMEOUT_MS) {
    await sleep(50);
  }
  const drainMs = performance.now() - drainStart;

  let latencies = [];
  let unacknowledged = 0;
  let undelivered = 0;
  let edits = 0;
  const divergent = [];
  for (const doc of documents) {
    const result = collectLatencies(doc, measureStart, end);
    for (const value of result.latencies) latencies.push(value);
    unacknowledged += result.unacknowledged;
    undelivered += result.undelivered;
    for (const editor of doc.editors) {
      edits += editor.sent.filter((r) => r.scheduled >= measureStart && r.scheduled < end).length;
    }

    const hashes = doc.editors.map((editor) => createHash("sha256").update(editor.text).digest("hex"));
    if (new Set(hashes).size !== 1) {
      divergent.push({ docId: doc.docId, distinctHashes: new Set(hashes).size, lengths: doc.editors.map((e) => e.text.length) });
    }
  }

  // Edits of this run are done; clear the records so a following step starts clean.
  for (const doc of documents) {
    for (const editor of doc.editors) {
      editor.sent = [];
      editor.arrivals = new Map();
    }
  }

  return {
    type: "result",
    latencies: Float64Array.from(latencies),
    lags: Float64Array.from(lags),
    edits,
    unacknowledged,
    undelivered,
    divergent,
    drainMs,
    finalHash: createHash("sha256")
      .update(documents.map((doc) => doc.editors[0].text).join("\u0000"))
      .digest("hex"),
  };
}

async function closeAll() {
  for (const doc of documents) {
    for (const editor of doc.editors) {
      try {
        editor.close();
      } catch (error) {
        console.error(`closing editor ${editor.clientId} failed: ${error.message}`);
      }
    }
  }
  documents = [];
  await sleep(200);
  return { type: "closed" };
}

process.on("message", async (message) => {
  try {
    let reply;
    if (message.cmd === "setup") reply = await setup(message);
    else if (message.cmd === "run") reply = await run(message);
    else if (message.cmd === "close") reply = await closeAll();
    else throw new Error(`unknown worker command ${JSON.stringify(message.cmd)}`);
    process.send(reply);
    if (message.cmd === "close") process.exit(0);
  } catch (error) {
    process.send({ type: "error", message: error.stack ?? String(error) });
  }
});
