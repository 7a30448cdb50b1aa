// A Yjs server: @hocuspocus/server 3 with no extensions, so documents live in memory only,
// for the comparison benchmark.
//
//   node hocuspocus-server.mjs PORT

import { Server } from "@hocuspocus/server";

const port = Number(process.argv[2]);
if (!Number.isInteger(port)) {
  console.error(`invalid port ${JSON.stringify(process.argv[2])}; usage: node hocuspocus-server.mjs PORT`);
  process.exit(2);
}

const server = new Server({ port, address: "127.0.0.1", quiet: true }, { perMessageDeflate: false });
await server.listen();
console.log(`hocuspocus listening on 127.0.0.1:${port}`);
