// Bundles the pages' scripts into web/static/dist, which the service serves at /dist.
// Usage: npm run build (add --watch to rebuild on every change).

import * as esbuild from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const clientDir = dirname(fileURLToPath(import.meta.url));

const options = {
  entryPoints: {
    editor: join(clientDir, "src/editor-page.js"),
    view: join(clientDir, "src/view-page.js"),
    index: join(clientDir, "src/index-page.js"),
  },
  outdir: join(clientDir, "../static/dist"),
  bundle: true,
  format: "esm",
  minify: true,
  sourcemap: true,
  // String.prototype.toWellFormed, used in src/codemirror.js, needs these versions.
  target: ["chrome111", "firefox119", "safari16.4"],
  logLevel: "info",
};

if (process.argv.includes("--watch")) {
  const context = await esbuild.context(options);
  await context.watch();
} else {
  await esbuild.build(options);
}
