// Prints each claim record's verdict, coverage and size for some blocks of one chapter, in the
// build's sandbox (measuring only; not a test): npm run -s compile && node scripts/claim-stats.mjs chapters/NN-x.md [BLOCK-ID ...]
import { readFile } from "node:fs/promises";
import path from "node:path";
import { extract } from "../dist/build/src/extract.js";
import { listChapters } from "../dist/build/src/pipeline.js";
import { runChapters } from "../dist/build/src/run.js";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const [target, ...blocks] = process.argv.slice(2);
const abs = path.resolve(root, target);
const files = await listChapters(path.dirname(abs));
const extracts = new Map();
for (const f of files) extracts.set(f, extract(path.relative(root, f), await readFile(f, "utf8")));
const { modules } = await runChapters(root, [abs], extracts, { only: blocks.length ? blocks : null, replayToken: null, workers: 1 });
for (const t of modules[0].tests)
  for (const r of t.meta?.records ?? [])
    if (r.type === "claim")
      console.log([t.name, r.title.slice(0, 60), r.observed, r.coverage.kind + (r.coverage.preemptions !== undefined ? "≤" + r.coverage.preemptions : ""), r.stats.executions, r.stats.steps, r.stats.ms].join("\t"));
