// Kernel-model benchmark: time to verdict of the canonical S2 and S4 claims (medians of RUNS).
//   S2 fixed design (mmu_interval_notifier + hmm_range_fault + read_retry, 4 pages) proven Never,
//   exhaustive (source-DPOR), with 1, 2 and 3 concurrent validators (3 over declared footprints:
//   bounded, see below; 2 and 3 also over field footprints);
//   S4 (notifier callback allocates with GFP_KERNEL): lockdep "now" Always, E18 Never, and the
//   real NOFS reclaim deadlock Sometimes.
// Compile with tsc (tsconfig.build.json) and run `node --no-allocation-site-pretenuring --single-threaded-gc
// dist/bench/kernel.js` (the flags of build/src/node-flags.ts, as `npm run bench` does); exports main().
// BENCH_HEAVY=1 adds the rows that take tens of seconds (2 validators exhaustive: ≈41 s; 3 validators
// within 2 preemptions: ≈8 s; work stealing on 2 validators, declared and field footprints: one to
// two minutes). BENCH_ONLY=<text> runs matching rows only.
//
// 3 validators over declared footprints stay bounded: a stateless explorer enumerates Mazurkiewicz
// traces, and each validator races the invalidation independently (≈180 classes per validator
// there), so three validators are ≈180³ traces; a stateful checker merges the equal states those
// traces reach. Over field footprints (the device's table recorded, read_begin's wait a latch) the
// exhaustive search takes 29,833 executions (December 2026; 456,881 while read_begin's sample
// raced every mn_itree_inv_end): a light row, and the book's C03.8-now-3v-all.

import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { isMainThread } from "node:worker_threads";
import { check, search, type ClaimSpec } from "../lib/explorer/index.ts";
import { exploreDporGuards } from "../lib/explorer/dpor.ts";
import { closeWorkers, exploreParallel } from "../lib/explorer/parallel.ts";
import { E18, ENOW } from "../lib/kernel/era.ts";
import { s2Mni } from "../lib/kernel/s2.ts";
import { s4CallbackAllocates, s4Deadlock } from "../test/kernel/s4.ts";
import { GFP_KERNEL, GFP_NOFS } from "../lib/kernel/gfp.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Row {
  readonly name: string;
  /** Tens of seconds: only with BENCH_HEAVY=1. */
  readonly heavy?: boolean;
  readonly spec: () => ClaimSpec;
}

/** S2 fixed, 4 pages, `validators` validators against munmap, proved Never with `search`. */
function s2Fixed(validators: number, search?: ClaimSpec["search"], budget?: ClaimSpec["budget"]): ClaimSpec {
  return { title: "S2", model: s2Mni(ENOW, 4, validators, "munmap"), predicate: (e) => e.has("uaf") || e.has("stale-install"), expect: "Never", ...(search ? { search } : {}), ...(budget ? { budget } : {}) };
}
const HEAVY_BUDGET = { executions: 10_000_000, steps: 1_000_000_000 };

const ROWS: Row[] = [
  { name: "S2 fixed, 4 pages, 1 validator, exhaustive", spec: () => s2Fixed(1) },
  { name: "S2 fixed, 4 pages, 3 validators, <= 1 preemption", spec: () => s2Fixed(3, { strategy: "bounded", preemptions: 1 }) },
  // Over field footprints (lib/explorer/README.md): since the test device's table is recorded and
  // read_begin's wait is a latch (December 2026), 314 executions against 248,536 declared.
  { name: "S2 fixed, 4 pages, 2 validators, exhaustive, fields", spec: () => s2TwoValidators(true) },
  { name: "S2 fixed, 4 pages, 2 validators, exhaustive", heavy: true, spec: () => s2Fixed(2, undefined, HEAVY_BUDGET) },
  // The book's C03.8-now-3v-all (chapter 03): about 8 s here.
  { name: "S2 fixed, 4 pages, 3 validators, exhaustive, fields", spec: () => s2Fixed(3, { strategy: "dpor", fields: true }, HEAVY_BUDGET) },
  { name: "S2 fixed, 4 pages, 3 validators, <= 2 preemptions", heavy: true, spec: () => s2Fixed(3, { strategy: "bounded", preemptions: 2 }, HEAVY_BUDGET) },
  { name: "S4 lockdep(now) Always", spec: () => ({ title: "S4", model: s4CallbackAllocates(ENOW, GFP_KERNEL), predicate: (e) => e.has("lockdep"), expect: "Always" }) },
  { name: "S4 lockdep(E18) Never", spec: () => ({ title: "S4", model: s4CallbackAllocates(E18, GFP_KERNEL), predicate: (e) => e.has("lockdep"), expect: "Never" }) },
  { name: "S4 NOFS reclaim deadlock Sometimes (E18)", spec: () => ({ title: "S4", model: s4Deadlock(E18, GFP_NOFS), predicate: (e) => e.has("deadlock"), expect: "Sometimes" }) },
];

/**
 * DPOR's probes (dpor.ts, "Probes"): the first 20 000 executions of S2 fixed with 2 validators
 * and 1 page (exhaustive search, cut by the budget) three ways, alternating in the same process:
 * every probe re-run; re-run answers remembered (the probe memo); and, first, answers from guard
 * states (the default). Same executions, runs and steps all three ways (neither changes a run);
 * executions/s of each.
 */
function probeRow(): void {
  const spec = (): ClaimSpec => ({ title: "S2", model: s2Mni(ENOW, 1, 2, "munmap"), predicate: (e) => e.has("uaf") || e.has("stale-install"), expect: "Never", budget: { executions: 20_000 } });
  const ways = { rerun: exploreDporGuards("probe", () => null), memo: exploreDporGuards("probe"), guards: undefined } as const;
  type Way = keyof typeof ways;
  const rate = (way: Way): { rate: number; key: string; executions: number } => {
    const t = performance.now();
    const explore = ways[way];
    const r = search(spec(), explore ? { explore } : {});
    return { rate: (r.stats.executions * 1000) / (performance.now() - t), key: `${r.stats.executions}/${r.stats.runs}/${r.stats.steps}`, executions: r.stats.executions };
  };
  const rates: Record<Way, number[]> = { rerun: [], memo: [], guards: [] };
  const keys = new Set<string>();
  let executions = 0;
  for (let i = 0; i <= RUNS; i++)
    for (const way of Object.keys(ways) as Way[]) {
      const r = rate(way);
      keys.add(r.key);
      executions = r.executions;
      if (i > 0) rates[way].push(r.rate); // the first round warms up
    }
  const m = (w: Way): number => median(rates[w]);
  console.log(`\nS2 fixed, 1 page, 2 validators, first ${executions} executions (${keys.size === 1 ? "same search" : "SEARCH DIFFERS"}): executions/s re-running every probe ${m("rerun").toFixed(0)}, with the probe memo ${m("memo").toFixed(0)} (${(m("memo") / m("rerun")).toFixed(2)}x), with guard states ${m("guards").toFixed(0)} (${(m("guards") / m("rerun")).toFixed(2)}x)`);
}

/** S2 fixed, 4 pages, 2 validators, exhaustive source-DPOR (`fields`: over field footprints):
 *  exported for the work-stealing row's workers, which load it by module and name. */
export function s2TwoValidators(fields: boolean): ClaimSpec {
  return s2Fixed(2, fields ? { strategy: "dpor", fields } : { strategy: "dpor" }, HEAVY_BUDGET);
}

/**
 * Work stealing (steal.ts) on a kernel claim: S2 with 2 validators, one thread against two
 * workers, alternating in this process, medians of three: time, executions both ways (equal
 * when the stolen units keep the sequential sleep sets) and the speedup. Heavy (about a minute
 * or two).
 */
async function stealRow(): Promise<void> {
  const url = new URL(import.meta.url);
  for (const fields of [false, true]) {
    const seqMs: number[] = [], parMs: number[] = [];
    let seqEx = 0, parEx: number[] = [];
    for (let i = 0; i < 3; i++) {
      let t = performance.now();
      seqEx = search(s2TwoValidators(fields), { stopEarly: false }).stats.executions;
      seqMs.push(performance.now() - t);
      t = performance.now();
      const p = await exploreParallel({ module: url, export: "s2TwoValidators", args: [fields], workers: 2, stopEarly: false });
      parMs.push(performance.now() - t);
      parEx.push(p.stats.executions);
    }
    await closeWorkers();
    console.log(`S2 fixed, 4 pages, 2 validators${fields ? ", field footprints" : ""}: one thread ${median(seqMs).toFixed(0)} ms (${seqEx} executions), two workers ${median(parMs).toFixed(0)} ms (${median(parEx)} executions), ${(median(seqMs) / median(parMs)).toFixed(2)}x (on ${availableParallelism()} cpus, load avg ${loadavg()[0].toFixed(1)})`);
  }
}

export async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY;
  console.log(`kernel model: time to verdict (median of ${RUNS} runs)`);
  console.log(["claim".padEnd(52), "verdict".padEnd(10), "executions".padStart(11), "ms".padStart(9)].join(" "));
  for (const row of ROWS) {
    if (only && !row.name.includes(only)) continue;
    if (row.heavy && !process.env.BENCH_HEAVY) continue;
    const ms: number[] = [];
    let verdict = "", execs = 0;
    const runs = row.heavy ? 1 : RUNS;
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      const r = check(row.spec());
      ms.push(performance.now() - t);
      verdict = r.observed + (r.pass ? "" : " (FAIL)");
      execs = r.stats.executions;
    }
    console.log([row.name.padEnd(52), verdict.padEnd(10), String(execs).padStart(11), median(ms).toFixed(0).padStart(9)].join(" "));
  }
  if (!only || "probes".includes(only)) probeRow();
  if (process.env.BENCH_HEAVY && (!only || "work stealing".includes(only))) await stealRow();
}

// Not in the work-stealing row's workers, which load this module for its claim (they share argv);
// and no top-level await: the row's coordinator imports this module too, which would wait for
// its own evaluation to end.
if (isMainThread && process.argv[1] === fileURLToPath(import.meta.url)) main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
