// The explorer against SPIN on equal terms: scenario S2 as bench/s2_userptr.pml (SPIN 6.5.2) and
// as its port bench/s2-promela.ts (same granularity: one explorer step per atomic block), time to
// verdict for the fixed design (Never) and the buggy one (Sometimes), in the same run.
//
// SPIN is a bench-only dependency (Debian package `spin`, plus gcc); without it the SPIN column
// says so and the explorer rows still run. SPIN's time is the whole command a user would run:
//   spin -a -DNPAGES=n -DNVAL=v -DFIXED=f s2_userptr.pml && gcc -O2 -DSAFETY -DNOCLAIM -o pan pan.c && ./pan -m1000000 -w26
// (pan's own search time is shown beside it). The explorer's time is check() on the port.
//
// The full size (4 pages, 3 validators) is far beyond a stateless search of the port (see the
// object note in s2-promela.ts), so its DPOR rows run under an execution budget and report how far
// they got and at what rate: they never print a verdict they did not reach. The stateful rows
// (state caching + sleep sets, snapshot backtracking) run the full size to its verdict and show the
// states stored beside SPIN's.
// The buggy full size is reachable but slow (2.4 M executions, ≈165 s on a loaded 2-core machine:
// the race to reverse sits near the root of the depth-first search), so it is budgeted too unless
// BENCH_HEAVY=1.
// Env: BENCH_RUNS (medians), BENCH_S2P_BUDGET (executions for the budgeted rows, default 100 000),
// BENCH_HEAVY=1 (run the budgeted rows to the end), BENCH_S2P_ONLY (rows whose first column contains it).
// Compile with tsc (tsconfig.build.json) and run `node dist/bench/spin.js`; exports main().

import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir, availableParallelism } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { check, type ClaimResult } from "../lib/explorer/index.ts";
import { s2Promela } from "./s2-promela.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BUDGET = Number(process.env.BENCH_S2P_BUDGET ?? 100_000);
/** Only the rows whose first column contains this (e.g. "stateful"). */
const ONLY = process.env.BENCH_S2P_ONLY;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const times = (r: number) => `${r >= 10 ? fmt(r) : r.toPrecision(2)}x`;
/** The .pml sits beside this file's source: dist/bench/spin.js -> bench/s2_userptr.pml. */
const PML = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bench/s2_userptr.pml");

interface Size {
  readonly pages: number;
  readonly validators: number;
  readonly fixed: boolean;
  /** Beyond the explorer: run it under BUDGET executions (unless BENCH_HEAVY=1) and report the rate. */
  readonly budgeted?: boolean;
  /** "dpor" (default) or "stateful" (state caching + sleep sets, snapshot backtracking: lib/explorer/stateful.ts). */
  readonly strategy?: "dpor" | "stateful";
  /** stateful only: the validators declared interchangeable (symmetry reduction, lib/explorer/symmetry.ts). */
  readonly symmetry?: boolean;
}
const SIZES: Size[] = [
  { pages: 2, validators: 1, fixed: true },
  { pages: 2, validators: 1, fixed: false },
  { pages: 1, validators: 2, fixed: true },
  { pages: 1, validators: 2, fixed: false },
  { pages: 4, validators: 3, fixed: true, budgeted: true },
  { pages: 4, validators: 3, fixed: false, budgeted: true },
  // The stateful strategy merges equal states as SPIN does: the full size runs to its verdict.
  { pages: 4, validators: 3, fixed: true, strategy: "stateful" },
  { pages: 4, validators: 3, fixed: false, strategy: "stateful" },
  // ... and with the three validators declared interchangeable: states up to a permutation of them
  // (SPIN's run has no symmetry reduction: compare the states stored as well as the time).
  { pages: 4, validators: 3, fixed: true, strategy: "stateful", symmetry: true },
  { pages: 4, validators: 3, fixed: false, strategy: "stateful", symmetry: true },
];

export function spinAvailable(): boolean {
  return spawnSync("spin", ["-V"]).status === 0 && spawnSync("gcc", ["--version"]).status === 0;
}

interface SpinRun {
  readonly wallMs: number;
  readonly panMs: number;
  readonly errors: number;
  readonly states: number;
}

/** spin -a && gcc && ./pan in a fresh directory, timed as one command. */
function runSpin(s: Size): SpinRun {
  const dir = mkdtempSync(path.join(tmpdir(), "s2-spin-"));
  try {
    copyFileSync(PML, path.join(dir, "s2_userptr.pml"));
    const t = performance.now();
    execFileSync("spin", ["-a", `-DNPAGES=${s.pages}`, `-DNVAL=${s.validators}`, `-DFIXED=${s.fixed ? 1 : 0}`, "s2_userptr.pml"], { cwd: dir, stdio: "pipe" });
    execFileSync("gcc", ["-O2", "-DSAFETY", "-DNOCLAIM", "-o", "pan", "pan.c"], { cwd: dir, stdio: "pipe" });
    const out = spawnSync("./pan", ["-m1000000", "-w26"], { cwd: dir, encoding: "utf8" }).stdout;
    const wallMs = performance.now() - t;
    const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
    return { wallMs, panMs: num(/elapsed time ([\d.]+) seconds/) * 1000, errors: num(/errors: (\d+)/), states: num(/(\d+) states, stored/) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runExplorer(s: Size): { r: ClaimResult; ms: number } {
  const t = performance.now();
  const r = check({
    title: `S2 (Promela port) ${s.fixed ? "fixed" : "buggy"}`,
    model: s2Promela({ ...s, symmetry: s.symmetry === true }),
    predicate: (e) => e.has("uaf") || e.has("deadlock") || e.has("livelock"),
    expect: s.fixed ? "Never" : "Sometimes",
    budget: { executions: s.budgeted && !process.env.BENCH_HEAVY ? BUDGET : 100_000_000, steps: 10_000_000_000 },
    search: s.strategy === "stateful" ? { strategy: "stateful", snapshots: true, resultsOnly: true, minimise: false } : { strategy: "dpor", minimise: false },
  });
  return { r, ms: performance.now() - t };
}

export interface SpinRow {
  readonly size: string;
  readonly explorer: string;
  readonly spin: string;
  readonly ratio: string;
}

export function main(): SpinRow[] {
  const have = spinAvailable();
  const load = loadavg()[0];
  const rows: SpinRow[] = [];
  for (const s of SIZES) {
    const size = `${s.pages} pages, ${s.validators} validator${s.validators > 1 ? "s" : ""}, ${s.fixed ? "fixed" : "buggy"}, ${s.strategy ?? "dpor"}${s.symmetry ? " + symmetry" : ""}`;
    if (ONLY && !size.includes(ONLY)) continue;
    // One run for the budgeted rows (they report a rate, not a time to verdict).
    const runs = s.budgeted ? 1 : RUNS;
    const ex: number[] = [], sp: SpinRun[] = [];
    let r: ClaimResult | undefined;
    for (let i = 0; i < runs; i++) {
      const e = runExplorer(s);
      r = e.r;
      ex.push(e.ms);
      if (have) sp.push(runSpin(s));
    }
    const res = r as ClaimResult;
    const ms = median(ex);
    const states = res.coverage.kind === "exhaustive" && res.coverage.states !== undefined ? `, ${fmt(res.coverage.states)} states stored` : "";
    const counts = `${fmt(res.stats.executions)} executions, ${fmt(res.stats.runs)} runs${states}`;
    const finished = res.complete || res.observed === "Sometimes";
    const explorer = finished
      ? `${res.observed} in ${fmt(ms)} ms (${counts})`
      : `NOT FINISHED: ${counts} in ${fmt(ms)} ms = ${fmt((res.stats.executions * 1000) / ms)} executions/s, budget spent, no verdict`;
    let spin = "SPIN not installed (apt-get install spin; bench-only): skipped", ratio = "";
    if (have) {
      const wall = median(sp.map((x) => x.wallMs)), pan = median(sp.map((x) => x.panMs));
      const verdict = sp[0].errors > 0 ? "Sometimes" : "Never";
      spin = `${verdict} in ${fmt(wall)} ms (pan ${fmt(pan)} ms, ${fmt(sp[0].states)} states)`;
      // Against the whole command (what a user waits for; gcc dominates small sizes), and against
      // pan's search alone (the engines compared, compiler excluded).
      const vsPan = pan >= 10 ? times(ms / pan) : "pan < 10 ms";
      ratio = finished ? `${times(ms / wall)} (search vs pan: ${vsPan})` : "none: the explorer did not finish";
      if (finished && verdict !== res.observed) ratio += ` VERDICTS DIFFER`;
    }
    rows.push({ size, explorer, spin, ratio });
  }
  const table = [["S2, s2_userptr.pml", "explorer (port; strategy in the first column)", "SPIN (spin -a && gcc && ./pan)", "explorer / SPIN"], ...rows.map((x) => [x.size, x.explorer, x.spin, x.ratio])];
  const w = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((c, i) => c.padEnd(w[i])).join(" | ").trimEnd();
  console.log(`Explorer vs SPIN, same model and granularity, time to verdict: medians of ${RUNS} runs (budgeted rows: one run), load avg ${load.toFixed(1)} on ${availableParallelism()} cpus`);
  console.log([line(table[0]), w.map((n) => "-".repeat(n)).join("-|-"), ...table.slice(1).map(line)].join("\n"));
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
