// Prints each claim record's verdict, coverage (with its reduction), executions, runs and size, then totals and CPU, for some blocks of one chapter, in the
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
// CPU of this process and its chapter worker (user + sys): the machine is shared, wall time is noise.
const cpu0 = process.cpuUsage();
const { modules } = await runChapters(root, [abs], extracts, { only: blocks.length ? blocks : null, replayToken: null, workers: 1 });
const cpu = process.cpuUsage(cpu0);
let records = 0, exhaustiveDpor = 0, executions = 0, runs = 0;
for (const t of modules[0].tests)
  for (const r of t.meta?.records ?? [])
    if (r.type === "claim") {
      records++;
      executions += r.stats.executions;
      runs += r.stats.runs ?? r.stats.executions;
      if (r.coverage.kind === "exhaustive" && /DPOR/.test(r.coverage.reduction ?? "")) exhaustiveDpor++;
      console.log([t.name, r.title.slice(0, 60), r.observed, r.coverage.kind + (r.coverage.preemptions !== undefined ? "≤" + r.coverage.preemptions : "") + (r.coverage.reduction ? ` ${r.coverage.reduction}` : ""), r.stats.executions, r.stats.runs, r.stats.steps, r.stats.ms].join("\t"));
    }
console.log(`total\t${records} records (${exhaustiveDpor} exhaustive DPOR)\texecutions ${executions}\truns ${runs}\tCPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (this process; the chapter worker is a thread of it)`);
