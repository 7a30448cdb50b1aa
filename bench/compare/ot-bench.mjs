// OT micro-benchmarks and trace replays, side by side: docserver's Python `ot` core, its
// JavaScript twin (web/client/src/ot.js), ot.js (`ot` on npm) and `ot-text-unicode`.
//
//   node ot-bench.mjs [--seconds 1] [--out results/ot.json]
//
// ot_cases.py generates the cases (seeded), times the Python core and writes the cases to
// a temporary file. This script then times the JavaScript libraries on the same operations.
// Positions in the cases count code points. ot.js counts UTF-16 code units, so its
// operations are converted before timing.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createRequire } from "node:module";

import otTextUnicode from "ot-text-unicode";

import * as docOt from "../../web/client/src/ot.js";

const require = createRequire(import.meta.url);
const { TextOperation } = require("ot");

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = join(HERE, "../..");
const TRACES = ["seph-blog1", "sveltecomponent", "json-crdt-patch", "friendsforever_flat", "clownschool_flat"];

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "1" },
    out: { type: "string", default: join(HERE, "results", "ot.json") },
  },
});
const SECONDS = Number(args.seconds);
const unicodeType = otTextUnicode.type;

/** Returns the UTF-16 offset of code point `pos` in `text`. */
function utf16Offset(text, pos) {
  let offset = 0;
  for (let i = 0; i < pos; i++) offset += text.codePointAt(offset) > 0xffff ? 2 : 1;
  return offset;
}

function codePointLength(text) {
  let length = 0;
  for (const _ of text) length++;
  return length;
}

/** Applies a code-point splice to a JavaScript string. */
function spliceText(text, [pos, deleted, inserted]) {
  const start = utf16Offset(text, pos);
  const end = start + utf16Offset(text.slice(start), deleted);
  return text.slice(0, start) + inserted + text.slice(end);
}

// Converters from a code-point splice on `text` to each library's operation.

function toOtJs(text, [pos, deleted, inserted]) {
  const start = utf16Offset(text, pos);
  const removed = utf16Offset(text.slice(start), deleted);
  const op = new TextOperation().retain(start);
  if (removed) op.delete(removed);
  if (inserted) op.insert(inserted);
  return op.retain(text.length - start - removed);
}

function toUnicode(_text, [pos, deleted, inserted]) {
  const op = [pos];
  if (deleted) op.push({ d: deleted });
  if (inserted) op.push(inserted);
  return unicodeType.normalize(op);
}

function toDocOt(text, [pos, deleted, inserted]) {
  return docOt.fromSplice(codePointLength(text), pos, deleted, inserted);
}

const LIBRARIES = {
  "ot (npm, ot.js)": {
    convert: toOtJs,
    apply: (text, op) => op.apply(text),
    compose: (a, b) => a.compose(b),
    transform: (a, b) => TextOperation.transform(a, b),
  },
  "ot-text-unicode": {
    convert: toUnicode,
    apply: (text, op) => unicodeType.apply(text, op),
    compose: (a, b) => unicodeType.compose(a, b),
    transform: (a, b) => [unicodeType.transform(a, b, "left"), unicodeType.transform(b, a, "right")],
  },
  "docserver ot.js (web client)": {
    convert: toDocOt,
    apply: (text, op) => docOt.apply(text, op),
    compose: (a, b) => docOt.compose(a, b),
    transform: (a, b) => docOt.transform(a, b),
  },
};

function timeLoop(batch) {
  batch(); // warm-up, so the JIT has compiled the loop
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) count += batch();
  return count / ((performance.now() - start) / 1000);
}

function timeMicro(library, cases) {
  const { document } = cases;
  const afterFirst = cases.first.map((splice) => spliceText(document, splice));
  const firsts = cases.first.map((splice) => library.convert(document, splice));
  const followers = cases.follower.map((splice, i) => library.convert(afterFirst[i], splice));
  const concurrent = cases.concurrent.map((splice) => library.convert(document, splice));

  // Every library must produce the same text, or the comparison is void.
  for (let i = 0; i < 20; i++) {
    const composed = library.apply(document, library.compose(firsts[i], followers[i]));
    if (composed !== spliceText(afterFirst[i], cases.follower[i])) throw new Error(`compose case ${i}: applying the composed operation gives a text that differs from applying both splices`);
  }

  return {
    apply: timeLoop(() => {
      for (const op of firsts) library.apply(document, op);
      return firsts.length;
    }),
    compose: timeLoop(() => {
      for (let i = 0; i < firsts.length; i++) library.compose(firsts[i], followers[i]);
      return firsts.length;
    }),
    transform: timeLoop(() => {
      for (let i = 0; i < firsts.length; i++) library.transform(firsts[i], concurrent[i]);
      return firsts.length;
    }),
  };
}

/** Returns the trace patch's operation for a library, given the code-point length before it. */
function traceOperation(name, text, length, [pos, deleted, inserted], bmpOnly) {
  if (name === "ot (npm, ot.js)" && bmpOnly) {
    // Without characters beyond U+FFFF code points and UTF-16 offsets agree.
    const op = new TextOperation().retain(pos);
    if (deleted) op.delete(deleted);
    if (inserted) op.insert(inserted);
    return op.retain(length - pos - deleted);
  }
  if (name === "docserver ot.js (web client)") return docOt.fromSplice(length, pos, deleted, inserted);
  return LIBRARIES[name].convert(text, [pos, deleted, inserted]);
}

/**
 * Replays a sequential trace patch by patch, timing the construction of each operation
 * from its splice and its application, as the Python replay does.
 */
function timeTrace(name, trace, patches) {
  const library = LIBRARIES[name];
  const astral = /[\u{10000}-\u{10FFFF}]/u;
  const bmpOnly = !astral.test(trace.startContent ?? "") && patches.every((patch) => !astral.test(patch[2]));
  let text = trace.startContent ?? "";
  let length = codePointLength(text);
  const start = performance.now();
  for (const patch of patches) {
    const op = traceOperation(name, text, length, patch, bmpOnly);
    length += (bmpOnly ? patch[2].length : codePointLength(patch[2])) - patch[1];
    text = library.apply(text, op);
  }
  const seconds = (performance.now() - start) / 1000;
  if (text !== trace.endContent) throw new Error("replay does not reproduce endContent");
  return { patches: patches.length, seconds, patchesPerSecond: patches.length / seconds };
}

function main() {
  const workDir = mkdtempSync(join(tmpdir(), "ot-bench-"));
  const casesPath = join(workDir, "cases.json");
  let python;
  try {
    const output = execFileSync(
      join(REPO_ROOT, ".venv/bin/python"),
      [join(HERE, "ot_cases.py"), casesPath, "--seconds", String(SECONDS)],
      { maxBuffer: 1 << 26 },
    );
    python = JSON.parse(output.toString());
    const cases = JSON.parse(readFileSync(casesPath, "utf8"));

    const micro = { "docserver ot (Python)": python.micro };
    const traces = { "docserver ot (Python)": python.traces };
    for (const [name, library] of Object.entries(LIBRARIES)) {
      micro[name] = timeMicro(library, cases);
      traces[name] = {};
      for (const traceName of TRACES) {
        const trace = JSON.parse(gunzipSync(readFileSync(join(REPO_ROOT, "tests/traces", `${traceName}.json.gz`))).toString());
        const patches = trace.txns.flatMap((txn) => txn.patches);
        traces[name][traceName] = timeTrace(name, trace, patches);
      }
      console.log(name, JSON.stringify(micro[name]));
    }

    const result = {
      date: new Date().toISOString(),
      command: "bench/compare/run --ot",
      secondsPerMicroBenchmark: SECONDS,
      node: process.version,
      python: python.python,
      micro,
      traces,
      traceCredit: "Editing traces from josephg/editing-traces, CC BY 4.0: Joseph Gentle; json-crdt-patch by Vadim Dalecky / JSON Joy",
    };
    mkdirSync(dirname(args.out), { recursive: true });
    writeFileSync(args.out, JSON.stringify(result, null, 1));
    console.log(JSON.stringify(traces, null, 1));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

main();
