// ShareDB 7 with its in-memory database (ShareDB.MemoryDB), served over WebSocket with `ws`
// and @teamwork/websocket-json-stream, for the comparison benchmark.
//
//   node sharedb-server.mjs PORT
//
// NOTE: MemoryDB deep-clones the whole snapshot on every commit, so its commit cost grows
// with the document; the benchmark documents stay near 300 characters.

import http from "node:http";

import ShareDB from "sharedb";
import WebSocketJSONStream from "@teamwork/websocket-json-stream";
import otTextUnicode from "ot-text-unicode";
import { WebSocketServer } from "ws";

const port = Number(process.argv[2]);
if (!Number.isInteger(port)) {
  console.error(`invalid port ${JSON.stringify(process.argv[2])}; usage: node sharedb-server.mjs PORT`);
  process.exit(2);
}

ShareDB.types.register(otTextUnicode.type);
const backend = new ShareDB({ presence: false });
const server = http.createServer((request, response) => response.end("sharedb\n"));
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on("connection", (socket) => backend.listen(new WebSocketJSONStream(socket)));
server.listen(port, "127.0.0.1", () => console.log(`sharedb listening on 127.0.0.1:${port}`));
process.on("SIGTERM", () => process.exit(0));
