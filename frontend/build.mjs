// Bundles the web chat UI, live.js and the chat widget into the Python package's static folder.
//
//   node build.mjs           one minified build (what `make` runs)
//   node build.mjs --watch   rebuild on every change while developing
//
// Everything is bundled from node_modules: the page never loads code from anywhere but /static/.
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const outdir = here("../src/roomcast/web/static/");

const shared = {
  bundle: true,
  minify: true,
  sourcemap: true,
  logLevel: "info",
};

const builds = [
  ...Object.entries({
    "main.js": ["app.js", "esm"],
    "live-view/main.js": ["live-view.js", "esm"],
    "console/main.js": ["console.js", "esm"],
    "check/main.js": ["check.js", "esm"],
    // live.js goes into other sites' pages as a classic <script>: one file, no module.
    "live/main.js": ["live.js", "iife"],
    // So does the chat widget (pages of --site, or any page by hand).
    "widget/main.js": ["widget.js", "iife"],
  }).map(([source, [output, format]]) => ({
    ...shared,
    entryPoints: [here(`src/${source}`)],
    outfile: `${outdir}${output}`,
    format,
    platform: "browser",
    target: "es2020",
  })),
  ...Object.entries({
    "styles.css": "app.css",
    "live-view/styles.css": "live-view.css",
    "live/charts.css": "live.css",
    "widget/widget.css": "widget.css",
    "demo.css": "demo.css",
    "console/console.css": "console.css",
    "check/styles.css": "check.css",
  }).map(([source, output]) => ({
    ...shared,
    entryPoints: [here(`src/${source}`)],
    outfile: `${outdir}${output}`,
    // Browsers of the es2020 era; esbuild lowers any newer CSS syntax for them.
    target: ["chrome87", "firefox78", "safari14", "edge88"],
  })),
];

await mkdir(outdir, { recursive: true });

if (process.argv.includes("--watch")) {
  for (const options of builds) {
    const context = await esbuild.context(options);
    await context.watch();
  }
  console.log("watching frontend/src for changes…");
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
