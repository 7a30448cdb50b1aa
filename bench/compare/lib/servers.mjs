// Starting, probing and sampling the servers under test. Each server runs in its own
// process pinned with `taskset -c SERVER_CPU`; the harness runs on the other CPU.

import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import WebSocket from "ws";

const HERE = fileURLToPath(new URL(".", import.meta.url));
export const REPO_ROOT = resolve(HERE, "../../..");
const PYTHON = join(REPO_ROOT, ".venv/bin/python");
export const CASSANDRA_STORE = "cassandra://127.0.0.1:9042/bench_compare";
const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());

function sleep(ms) {
  return new Promise((done) => setTimeout(done, ms));
}

// The Python packages docserver imports, copied once per benchmark run so that every trial
// runs the same server code even while the working tree changes.
const SERVER_PACKAGES = ["docserver", "ot", "web", "router", "compaction", "conf"];
let serverSnapshot = null;

/**
 * Copies docserver's code from the working tree into a temporary folder and returns
 * {dir, head, changedFiles, diffSha256}, which identify the code the run measured.
 */
export function snapshotServerCode() {
  const dir = mkdtempSync(join(tmpdir(), "bench-compare-code-"));
  for (const name of SERVER_PACKAGES) {
    if (!existsSync(join(REPO_ROOT, name))) continue;
    cpSync(join(REPO_ROOT, name), join(dir, name), {
      recursive: true,
      filter: (source) => !source.includes("node_modules") && !source.includes("__pycache__"),
    });
  }
  const git = (...gitArgs) => execFileSync("git", ["-C", REPO_ROOT, ...gitArgs]).toString();
  const diff = git("diff", "HEAD", "--", ...SERVER_PACKAGES);
  serverSnapshot = {
    dir,
    head: git("rev-parse", "HEAD").trim(),
    changedFiles: git("diff", "HEAD", "--name-only", "--", ...SERVER_PACKAGES).split("\n").filter(Boolean),
    diffSha256: createHash("sha256").update(diff).digest("hex"),
  };
  return serverSnapshot;
}

export function removeServerSnapshot() {
  if (serverSnapshot) rmSync(serverSnapshot.dir, { recursive: true, force: true });
}

/** Returns the command that starts `system` on `port`, and a cleanup function. */
function serverCommand(system, port) {
  if (system === "docserver" || system === "docserver-cassandra") {
    if (!serverSnapshot) throw new Error("call snapshotServerCode() before starting docserver");
    const dataDir = mkdtempSync(join(tmpdir(), "bench-compare-"));
    const args = ["-m", "docserver.cli", "serve", "--port", String(port), "--data-dir", dataDir, "--log-level", "warning"];
    if (system === "docserver-cassandra") args.push("--store", CASSANDRA_STORE);
    return {
      command: PYTHON,
      args,
      cwd: serverSnapshot.dir,
      env: { ...process.env, PYTHONPATH: serverSnapshot.dir },
      cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const script = { sharedb: "sharedb-server.mjs", yjs: "hocuspocus-server.mjs" }[system];
  if (!script) throw new Error(`unknown system ${JSON.stringify(system)}; expected docserver, docserver-cassandra, sharedb or yjs`);
  return { command: process.execPath, args: [join(HERE, "../servers", script), String(port)], cleanup: () => {} };
}

/** Server processes that are running, for the harness to kill when it is interrupted. */
export const liveServers = new Set();

/** Starts a server pinned to `cpu` and resolves once it responds to HTTP on `port`. */
export async function startServer(system, port, cpu) {
  let { command, args, cwd, env, cleanup } = serverCommand(system, port);
  let profiled = false;
  // With BENCH_PY_SPY (the py-spy binary) and BENCH_PROFILE_DIR set, docserver runs under
  // `py-spy record`, which writes collapsed stacks per server start. The sampled CPU and
  // memory are then py-spy's, not the server's.
  if (process.env.BENCH_PY_SPY && system.startsWith("docserver")) {
    const output = join(process.env.BENCH_PROFILE_DIR ?? tmpdir(), `${system}-${port}-${Date.now()}.txt`);
    args = ["record", "--format", "raw", "--rate", "200", "--output", output, "--", command, ...args];
    command = process.env.BENCH_PY_SPY;
    profiled = true;
  }
  const child = spawn("taskset", ["-c", String(cpu), command, ...args], {
    stdio: ["ignore", "ignore", "inherit"],
    cwd,
    env,
  });
  let exited = null;
  liveServers.add(child);
  child.on("exit", (code, signal) => {
    exited = { code, signal };
    liveServers.delete(child);
  });

  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${system} server exited during start with code ${exited.code}`);
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      break;
    } catch {
      await sleep(100);
    }
  }
  if (Date.now() >= deadline) {
    child.kill("SIGKILL");
    throw new Error(`${system} server on port ${port} did not respond to HTTP within 30 s; run the server command by hand to see why`);
  }

  return {
    system,
    port,
    // taskset execs the server, so the child's pid is the server's.
    pid: child.pid,
    async stop() {
      if (profiled && !exited) {
        // py-spy writes its output when interrupted; the server it started is stopped after.
        const servers = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").split(" ").filter(Boolean);
        child.kill("SIGINT");
        const profileDeadline = Date.now() + 10_000;
        while (!exited && Date.now() < profileDeadline) await sleep(50);
        for (const pid of servers) {
          try {
            process.kill(Number(pid), "SIGTERM");
          } catch {
            // The server has already exited.
          }
        }
      }
      if (!exited) {
        child.kill("SIGTERM");
        const stopDeadline = Date.now() + 10_000;
        while (!exited && Date.now() < stopDeadline) await sleep(50);
        if (!exited) child.kill("SIGKILL");
      }
      cleanup();
    },
  };
}

/** Creates `count` documents and returns their ids. */
export async function createDocuments(system, port, count, prefix) {
  if (system === "docserver" || system === "docserver-cassandra") {
    const ids = [];
    for (let i = 0; i < count; i++) {
      const response = await fetch(`http://127.0.0.1:${port}/docs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ title: `${prefix}-${i}` }),
      });
      if (response.status !== 201) throw new Error(`POST /docs returned ${response.status}: ${await response.text()}`);
      ids.push((await response.json()).id);
    }
    return ids;
  }
  // ShareDB's first editor creates its document; Hocuspocus creates documents on first use.
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
}

/**
 * Opens one WebSocket that offers permessage-deflate and returns the extensions the
 * server accepted ("" when compression is off).
 */
export function negotiatedExtensions(system, port, docId) {
  const path = system.startsWith("docserver") ? `/docs/${docId}` : `/${docId}`;
  return new Promise((done, fail) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: true });
    socket.on("open", () => {
      const extensions = socket.extensions;
      socket.close();
      done(extensions);
    });
    socket.on("error", fail);
  });
}

/**
 * Returns {cpuSeconds, rssBytes, runqueueSeconds} of a process from /proc, or null once it
 * is gone. runqueueSeconds is the main thread's time spent runnable but waiting for a CPU
 * (/proc/PID/schedstat), which shows how much other processes on its CPU delayed it.
 */
export function readProcess(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime + stime
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]);
    const runqueueNs = Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1]);
    return { cpuSeconds, rssBytes: rssKb * 1024, runqueueSeconds: runqueueNs / 1e9 };
  } catch {
    return null;
  }
}

/** Samples CPU and RSS of the given processes every `intervalMs` until stopped. */
export class ProcessSampler {
  constructor(pids, intervalMs = 500) {
    this.pids = pids;
    this.samples = []; // {t (ms, epoch), pid -> {cpuSeconds, rssBytes}}
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.sample();
  }

  sample() {
    const entry = { t: performance.timeOrigin + performance.now(), procs: {} };
    for (const pid of this.pids) entry.procs[pid] = readProcess(pid);
    this.samples.push(entry);
  }

  stop() {
    clearInterval(this.timer);
    this.sample();
  }

  /**
   * Returns mean CPU use (1.0 = one core), the fraction of time spent waiting for a CPU,
   * and max RSS of `pid` in [from, to] (epoch ms).
   */
  summary(pid, from, to) {
    const inside = this.samples.filter((s) => s.t >= from && s.t <= to && s.procs[pid]);
    if (inside.length < 2) return { cpu: null, runqueueWait: null, rssMaxBytes: null, rssSamples: [] };
    const first = inside[0].procs[pid];
    const last = inside[inside.length - 1].procs[pid];
    const seconds = (inside[inside.length - 1].t - inside[0].t) / 1000;
    const cpu = (last.cpuSeconds - first.cpuSeconds) / seconds;
    const runqueueWait = (last.runqueueSeconds - first.runqueueSeconds) / seconds;
    const rss = inside.map((s) => s.procs[pid].rssBytes);
    return { cpu, runqueueWait, rssMaxBytes: Math.max(...rss), rssSamples: rss };
  }
}
