// Side-by-side load benchmark of docserver, ShareDB and a Yjs server (Hocuspocus).
//
//   node load.mjs [--quick] [--systems docserver,sharedb,yjs] [--workloads a,b,c,d]
//                 [--trials 3] [--out results/load.json]
//
// Run it through ./run, which pins this process and so its forked workers to CPU 0 and
// raises the file-descriptor limit. Every server is started pinned to CPU 1.
//
// Workloads:
//   a  E editors on one document, R edits/s each
//   b  D documents with 5 editors each, 1 edit/s each
//   c  N idle connected editors (10 per document): server memory per connection
//   d  a ramp of workload a's shape, adding editors until p99 latency exceeds 100 ms
//
// Each run of a workload starts a fresh server, so trials do not share state, and trials
// interleave the systems (A B C A B C ...). Latency is measured from an edit's scheduled
// time until each other editor of the document has applied it. The run exits with code 1
// if the replicas of any document end with different text.

import { fork } from "node:child_process";
import { mkdirSync, writeFileSync, readFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import {
  ProcessSampler,
  createDocuments,
  liveServers,
  negotiatedExtensions,
  readProcess,
  removeServerSnapshot,
  snapshotServerCode,
  startServer,
} from "./lib/servers.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const HARNESS_CPU = 0;
const SERVER_CPU = 1;
const RAMP_P99_LIMIT_MS = 100;

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    systems: { type: "string", default: "docserver,sharedb,yjs" },
    workloads: { type: "string", default: "a,b,c,d" },
    trials: { type: "string", default: "3" },
    out: { type: "string" },
  },
});

const QUICK = args.quick;
const SETTINGS = QUICK
  ? {
      warmupMs: 2_000,
      measureMs: 6_000,
      a: { editors: 100, rate: 5 },
      b: { docs: 200, editors: 5, rate: 1, workers: 2 },
      c: { steps: [0, 2_000, 10_000], editorsPerDoc: 10, workers: 2 },
      d: { steps: [10, 25, 50, 100, 150, 200], rate: 5 },
    }
  : {
      warmupMs: 5_000,
      measureMs: 20_000,
      a: { editors: 100, rate: 5 },
      b: { docs: 1_000, editors: 5, rate: 1, workers: 2 },
      c: { steps: [0, 1_000, 5_000, 10_000], editorsPerDoc: 10, workers: 2 },
      d: { steps: [10, 20, 30, 40, 50, 60, 80, 100, 125, 150, 200, 250, 300], rate: 5 },
    };
const SYSTEMS = args.systems.split(",");
const WORKLOADS = args.workloads.split(",");
const TRIALS = Number(args.trials);
const OUT = args.out ?? join(HERE, "results", QUICK ? "load-quick.json" : "load.json");

let nextPort = 9100;
function takePort() {
  const port = nextPort;
  nextPort = nextPort >= 9290 ? 9100 : nextPort + 1;
  return port;
}

function sleep(ms) {
  return new Promise((done) => setTimeout(done, ms));
}

function now() {
  return performance.timeOrigin + performance.now();
}

// -- workers --------------------------------------------------------------------------------

// Child processes to kill if this process is interrupted.
const liveChildren = new Set();
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    for (const child of [...liveChildren, ...liveServers]) child.kill("SIGKILL");
    removeServerSnapshot();
    process.exit(130);
  });
}

class Worker {
  constructor() {
    this.child = fork(join(HERE, "lib/worker.mjs"), [], { serialization: "advanced" });
    liveChildren.add(this.child);
    this.child.on("exit", () => liveChildren.delete(this.child));
    this.waiting = null;
    this.child.on("message", (message) => {
      const waiting = this.waiting;
      this.waiting = null;
      if (!waiting) return;
      if (message.type === "error") waiting.reject(new Error(`worker ${this.child.pid}: ${message.message}`));
      else waiting.resolve(message);
    });
    this.child.on("exit", (code) => {
      if (this.waiting) this.waiting.reject(new Error(`worker ${this.child.pid} exited with code ${code}`));
    });
  }

  get pid() {
    return this.child.pid;
  }

  request(message, timeoutMs = 600_000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker ${this.pid} timed out on ${message.cmd}`)), timeoutMs);
      this.waiting = {
        resolve: (value) => (clearTimeout(timer), resolve(value)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
      this.child.send(message);
    });
  }

  async close() {
    try {
      await this.request({ cmd: "close" }, 30_000);
    } catch (error) {
      console.error(`closing worker ${this.pid} failed: ${error.message}`);
      this.child.kill("SIGKILL");
    }
  }
}

// -- statistics -----------------------------------------------------------------------------

function percentile(sorted, fraction) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

// Latency histogram bins: 0.1 ms to 100 s, 20 bins per decade, log-spaced.
const HISTOGRAM_EDGES = Array.from({ length: 6 * 20 + 1 }, (_, i) => 0.1 * 10 ** (i / 20));

function histogram(sorted) {
  const counts = new Array(HISTOGRAM_EDGES.length - 1).fill(0);
  let bin = 0;
  for (const value of sorted) {
    while (bin < counts.length - 1 && value >= HISTOGRAM_EDGES[bin + 1]) bin++;
    counts[bin]++;
  }
  return counts;
}

function summarizeLatencies(parts) {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const all = new Float64Array(total);
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  all.sort();
  const round = (value) => (value === null ? null : Math.round(value * 100) / 100);
  return {
    count: all.length,
    p50: round(percentile(all, 0.5)),
    p90: round(percentile(all, 0.9)),
    p99: round(percentile(all, 0.99)),
    p999: round(percentile(all, 0.999)),
    max: round(all.length ? all[all.length - 1] : null),
    histogram: histogram(all),
  };
}

// -- one run --------------------------------------------------------------------------------

const divergences = [];
let serverCode = null;

/**
 * Starts a server, connects `layout` (one {docs, editorsPerDoc} entry per worker), types at
 * `rate` for the warm-up and measurement windows, and returns the run's figures.
 */
async function runTyping({ system, trial, workload, layout, rate, label, server: sharedServer }) {
  const server = sharedServer ?? (await startServer(system, takePort(), SERVER_CPU));
  const workers = layout.map(() => new Worker());
  try {
    const setups = [];
    for (const [index, part] of layout.entries()) {
      const docIds = await createDocuments(system, server.port, part.docs, `${workload}${trial}-${label}-w${index}`);
      setups.push(
        workers[index].request({
          cmd: "setup",
          system,
          port: server.port,
          docs: docIds.map((docId) => ({ docId, editors: part.editorsPerDoc })),
          seed: trial * 1000 + index,
        }),
      );
    }
    await Promise.all(setups);

    const sampler = new ProcessSampler([server.pid, ...workers.map((w) => w.pid)]);
    const startAt = now() + 500;
    const measureFrom = startAt + SETTINGS.warmupMs;
    const measureTo = measureFrom + SETTINGS.measureMs;
    const results = await Promise.all(
      workers.map((worker, index) =>
        worker.request({
          cmd: "run",
          startAt,
          warmupMs: SETTINGS.warmupMs,
          measureMs: SETTINGS.measureMs,
          rate,
          seed: trial * 7919 + index,
        }),
      ),
    );
    sampler.stop();

    const serverUse = sampler.summary(server.pid, measureFrom, measureTo);
    const harnessCpu = workers
      .map((w) => sampler.summary(w.pid, measureFrom, measureTo).cpu ?? 0)
      .reduce((a, b) => a + b, 0);
    const latency = summarizeLatencies(results.map((r) => r.latencies));
    const lags = summarizeLatencies(results.map((r) => r.lags));
    const edits = results.reduce((sum, r) => sum + r.edits, 0);
    const divergent = results.flatMap((r) => r.divergent);
    if (divergent.length) divergences.push({ system, workload, trial, label, divergent });

    return {
      workload,
      system,
      trial,
      label,
      // Other work on the machine shows here: the harness and the server add about 2.
      loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100,
      documents: layout.reduce((sum, part) => sum + part.docs, 0),
      editors: layout.reduce((sum, part) => sum + part.docs * part.editorsPerDoc, 0),
      rate,
      edits,
      editsPerSecond: Math.round((edits / SETTINGS.measureMs) * 1000),
      deliveriesPerSecond: Math.round((latency.count / SETTINGS.measureMs) * 1000),
      latencyMs: latency,
      harnessLagMs: { p50: lags.p50, p99: lags.p99, max: lags.max },
      unacknowledged: results.reduce((sum, r) => sum + r.unacknowledged, 0),
      undelivered: results.reduce((sum, r) => sum + r.undelivered, 0),
      divergentDocuments: divergent.length,
      drainMs: Math.round(Math.max(...results.map((r) => r.drainMs))),
      serverCpu: serverUse.cpu === null ? null : Math.round(serverUse.cpu * 100) / 100,
      // Fraction of the window the server's main thread was runnable but waited for its CPU.
      serverRunqueueWait: serverUse.runqueueWait === null ? null : Math.round(serverUse.runqueueWait * 100) / 100,
      serverRssMaxMiB: serverUse.rssMaxBytes === null ? null : Math.round(serverUse.rssMaxBytes / 2 ** 20),
      harnessCpu: Math.round(harnessCpu * 100) / 100,
    };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    if (!sharedServer) await server.stop();
  }
}

/** Connects idle editors in steps and returns server RSS at each step. */
async function runIdle({ system, trial }) {
  const { steps, editorsPerDoc, workers: workerCount } = SETTINGS.c;
  const server = await startServer(system, takePort(), SERVER_CPU);
  const points = [];
  let workers = [];
  try {
    for (const connections of steps) {
      workers = Array.from({ length: workerCount }, () => new Worker());
      const docsPerWorker = Math.ceil(connections / editorsPerDoc / workerCount);
      const started = now();
      if (connections > 0) {
        await Promise.all(
          workers.map(async (worker, index) => {
            const docIds = await createDocuments(system, server.port, docsPerWorker, `c${trial}-${connections}-w${index}`);
            return worker.request({
              cmd: "setup",
              system,
              port: server.port,
              docs: docIds.map((docId) => ({ docId, editors: editorsPerDoc })),
              seed: trial,
            });
          }),
        );
      }
      const connectSeconds = (now() - started) / 1000;
      await sleep(3_000); // let allocations settle
      const rss = [];
      for (let i = 0; i < 5; i++) {
        rss.push(readProcess(server.pid).rssBytes);
        await sleep(500);
      }
      rss.sort((x, y) => x - y);
      points.push({
        connections: connections > 0 ? docsPerWorker * editorsPerDoc * workerCount : 0,
        rssBytes: rss[2],
        connectSeconds: Math.round(connectSeconds * 10) / 10,
      });
      console.log(`  ${system} idle ${points.at(-1).connections}: RSS ${(rss[2] / 2 ** 20).toFixed(1)} MiB`);
      await Promise.all(workers.map((w) => w.close()));
      workers = [];
      await sleep(1_000);
    }
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await server.stop();
  }
  const base = points[0].rssBytes;
  for (const point of points) {
    point.bytesPerConnection = point.connections ? Math.round((point.rssBytes - base) / point.connections) : null;
  }
  return { workload: "c", system, trial, editorsPerDocument: editorsPerDoc, points };
}

/** Raises editors on one document until p99 exceeds the limit, on one server. */
async function runRamp({ system, trial }) {
  const steps = [];
  const server = await startServer(system, takePort(), SERVER_CPU);
  try {
    for (const editors of SETTINGS.d.steps) {
      const step = await runTyping({
        system,
        trial,
        workload: "d",
        layout: [{ docs: 1, editorsPerDoc: editors }],
        rate: SETTINGS.d.rate,
        label: `e${editors}`,
        server,
      });
      delete step.latencyMs.histogram;
      steps.push(step);
      console.log(
        `  ${system} ramp ${editors} editors: p99 ${step.latencyMs.p99} ms, server CPU ${step.serverCpu}, harness CPU ${step.harnessCpu}`,
      );
      if (step.latencyMs.p99 === null || step.latencyMs.p99 > RAMP_P99_LIMIT_MS || step.undelivered || step.unacknowledged) break;
    }
  } finally {
    await server.stop();
  }
  const passing = steps.filter((s) => s.latencyMs.p99 !== null && s.latencyMs.p99 <= RAMP_P99_LIMIT_MS && !s.undelivered);
  return {
    workload: "d",
    system,
    trial,
    saturationEditors: passing.length ? passing.at(-1).editors : 0,
    firstFailingEditors: passing.length < steps.length ? steps.at(-1).editors : null,
    steps,
  };
}

// -- main -----------------------------------------------------------------------------------

function packageVersion(name) {
  const path = join(HERE, "node_modules", name, "package.json");
  return JSON.parse(readFileSync(path, "utf8")).version;
}

async function checkCompression() {
  const found = {};
  for (const system of SYSTEMS) {
    const server = await startServer(system, takePort(), SERVER_CPU);
    try {
      const [docId] = await createDocuments(system, server.port, 1, "handshake");
      found[system] = await negotiatedExtensions(system, server.port, docId);
    } finally {
      await server.stop();
    }
    if (found[system] !== "") throw new Error(`${system} accepted WebSocket extensions ${JSON.stringify(found[system])}; compression must be off`);
  }
  return found;
}

async function main() {
  const started = new Date().toISOString();
  const runs = [];
  serverCode = snapshotServerCode();
  console.log(`docserver code: HEAD ${serverCode.head}, changed files ${serverCode.changedFiles.join(", ") || "none"}`);
  const handshake = await checkCompression();
  console.log(`compression check: ${JSON.stringify(handshake)}`);

  for (const workload of WORKLOADS) {
    for (let trial = 1; trial <= TRIALS; trial++) {
      for (const system of SYSTEMS) {
        // The store does not change idle memory, and the quick ramp skips Cassandra for time.
        if (workload === "c" && system === "docserver-cassandra") continue;
        if (workload === "d" && system === "docserver-cassandra" && QUICK) continue;
        console.log(`workload ${workload}, trial ${trial}, ${system}`);
        let result;
        try {
          if (workload === "a") {
            result = await runTyping({
              system, trial, workload, rate: SETTINGS.a.rate, label: "a",
              layout: [{ docs: 1, editorsPerDoc: SETTINGS.a.editors }],
            });
          } else if (workload === "b") {
            const { docs, editors, rate, workers } = SETTINGS.b;
            result = await runTyping({
              system, trial, workload, rate, label: "b",
              layout: Array.from({ length: workers }, () => ({ docs: docs / workers, editorsPerDoc: editors })),
            });
          } else if (workload === "c") {
            result = await runIdle({ system, trial });
          } else if (workload === "d") {
            result = await runRamp({ system, trial });
          } else {
            throw new Error(`unknown workload ${JSON.stringify(workload)}; expected a, b, c or d`);
          }
        } catch (error) {
          console.error(`workload ${workload}, trial ${trial}, ${system} failed: ${error.stack}`);
          result = { workload, system, trial, error: error.message };
        }
        if (workload === "a" || workload === "b") {
          const l = result.latencyMs;
          if (l) console.log(`  p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms, ${result.editsPerSecond} edits/s, server CPU ${result.serverCpu}, harness CPU ${result.harnessCpu}, divergent ${result.divergentDocuments}`);
        }
        runs.push(result);
        writeResults(started, handshake, runs);
      }
    }
  }
  writeResults(started, handshake, runs);
  removeServerSnapshot();
  if (divergences.length) {
    console.error(`replicas diverged: ${JSON.stringify(divergences)}`);
    process.exit(1);
  }
}

function writeResults(started, handshake, runs) {
  const cpus = os.cpus();
  const result = {
    started,
    finished: new Date().toISOString(),
    command: `bench/compare/run${QUICK ? " --quick" : ""}`,
    settings: SETTINGS,
    trials: TRIALS,
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      kernel: os.release(),
      node: process.version,
      harnessCpu: HARNESS_CPU,
      serverCpu: SERVER_CPU,
    },
    versions: {
      sharedb: packageVersion("sharedb"),
      "ot-text-unicode": packageVersion("ot-text-unicode"),
      "@hocuspocus/server": packageVersion("@hocuspocus/server"),
      "@hocuspocus/provider": packageVersion("@hocuspocus/provider"),
      yjs: packageVersion("yjs"),
      ws: packageVersion("ws"),
    },
    // The working-tree state of docserver's code that every docserver run used.
    docserverCode: { head: serverCode.head, changedFiles: serverCode.changedFiles, diffSha256: serverCode.diffSha256 },
    compression: handshake,
    runs,
    divergences,
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(result, null, 1));
}

await main();
