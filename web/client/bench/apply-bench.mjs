// Times `apply` from src/ot.js: trace replays and single-splice edits on random documents.
//
//   node bench/apply-bench.mjs [--seconds 1]
//
// Trace replays build each patch's operation with `fromSplice` and apply it, as
// bench/compare/ot-bench.mjs does, and check the result against the trace's endContent.
// The traces are the sequential files in tests/traces. None of them contains a character
// beyond U+FFFF, so the replays measure only the path for text without surrogates.
// The random documents have 10,000 code points, like bench/compare/ot_cases.py, one with
// that file's alphabet (which includes an emoji) and one without the emoji.
// Figures depend on the machine and Node version, so compare runs on one machine.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";

import { apply, fromSplice } from "../src/ot.js";
import { codePointLength } from "../src/unicode.js";

const TRACE_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../../tests/traces");
const TRACES = [
  "seph-blog1",
  "sveltecomponent",
  "json-crdt-patch",
  "friendsforever_flat",
  "clownschool_flat",
];
const DOC_LENGTH = 10_000;
const SPLICE_COUNT = 1000;
const ALPHABET = [..."abcdefghijklmnopqrstuvwxyz      \n\u00e9\u6f22\u{1f600}"];

const { values: args } = parseArgs({ options: { seconds: { type: "string", default: "1" } } });
const SECONDS = Number(args.seconds);

/** Returns a seeded generator of floats in [0, 1) (mulberry32), so runs are repeatable. */
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

function randomText(random, alphabet, length) {
  let text = "";
  for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
  return text;
}

/** Returns a typing-sized splice operation: mostly one-character inserts, some deletes and pastes. */
function randomSplice(random, alphabet, length) {
  const pos = Math.floor(random() * (length + 1));
  const roll = random();
  if (roll < 0.7 || pos === length) {
    return fromSplice(length, pos, 0, randomText(random, alphabet, 1));
  }
  if (roll < 0.95) return fromSplice(length, pos, 1, "");
  const count = Math.floor(random() * (Math.min(20, length - pos) + 1));
  const text = randomText(random, alphabet, 1 + Math.floor(random() * 40));
  return fromSplice(length, pos, count, text);
}

/** Returns applies per second of single splices on one random document. */
function timeRandomApply(alphabet) {
  const random = seededRandom(1234);
  const document = randomText(random, alphabet, DOC_LENGTH);
  const ops = [];
  for (let i = 0; i < SPLICE_COUNT; i++) ops.push(randomSplice(random, alphabet, DOC_LENGTH));

  const batch = () => {
    for (const op of ops) apply(document, op);
  };
  batch(); // warm-up, so the JIT has compiled the loop
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    batch();
    count += ops.length;
  }
  return count / ((performance.now() - start) / 1000);
}

/** Replays a sequential trace once and returns patches per second. */
function timeTrace(name) {
  const path = join(TRACE_DIR, `${name}.json.gz`);
  const trace = JSON.parse(gunzipSync(readFileSync(path)).toString());
  const patches = trace.txns.flatMap((txn) => txn.patches);
  let text = trace.startContent ?? "";
  let length = codePointLength(text);

  const start = performance.now();
  for (const [pos, deleted, inserted] of patches) {
    text = apply(text, fromSplice(length, pos, deleted, inserted));
    length += codePointLength(inserted) - deleted;
  }
  const seconds = (performance.now() - start) / 1000;

  if (text !== trace.endContent) throw new Error(`replay of ${name} does not reproduce endContent`);
  return patches.length / seconds;
}

function format(rate) {
  return Math.round(rate).toLocaleString("en-US").padStart(12);
}

const withEmoji = timeRandomApply(ALPHABET);
const withoutEmoji = timeRandomApply(ALPHABET.filter((char) => char.length === 1));
console.log(`apply, 10k code points with emoji    ${format(withEmoji)} ops/s`);
console.log(`apply, 10k code points without emoji ${format(withoutEmoji)} ops/s`);
for (const name of TRACES) {
  console.log(`trace ${name.padEnd(31)}${format(timeTrace(name))} patches/s`);
}
