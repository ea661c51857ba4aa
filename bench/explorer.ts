// Explorer benchmark: prints one table (medians of RUNS runs).
//   steps/s of the explorer vs a bare generator-resumption loop (same process),
//   executions and runs under DPOR vs naive DFS vs the published trace counts: runs (every
//   execution started, sleep-set-blocked ones included) above the published trace count FAILS
//   the bench (process.exitCode = 1, issue 13 goal 5),
//   optimal DPOR (wakeup trees) against source-DPOR on the same benchmarks in the same run: runs,
//   executions, traces and time; optimal runs above the known trace count FAIL the bench too,
//   time to verdict, and worker-thread speedup (DFS by shards, DPOR by work stealing).
// Compile with tsc (see README) and run `node dist/bench/explorer.js`; exports main().

import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { search } from "../lib/explorer/claim.ts";
import { Execution } from "../lib/explorer/execution.ts";
import { DecisionScheduler } from "../lib/explorer/replay.ts";
import { model, SharedVar } from "../lib/explorer/index.ts";
import { closeWorkers, exploreParallel } from "../lib/explorer/parallel.ts";
import { counterClaim, filesystemClaim, indexerClaim, lastzeroClaim } from "./explorer-claims.ts";
import { COUNTED, lastzero, PUBLISHED } from "./explorer-models.ts";
import type { ClaimSpec } from "../lib/explorer/index.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const DFS_CAP = 20_000;
const DFS_STEPS = 2_000_000;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = (): number => performance.now();
function timed<T>(f: () => T): { v: T; ms: number } {
  const t = now();
  const v = f();
  return { v, ms: now() - t };
}

// ---- 1. raw stepping speed ----
const STEPS_PER_THREAD = 20_000;
function bareLoop(): number {
  // Two generators yielding effect-like objects, resumed round-robin: the floor cost.
  const cell = [{ v: 0 }, { v: 0 }];
  const mk = (c: { v: number }) =>
    (function* () {
      for (let i = 0; i < STEPS_PER_THREAD; i++) {
        const v = (yield { obj: c, kind: "read" }) as number;
        yield { obj: c, kind: "write", v: v + 1 };
      }
    })();
  const gens = [mk(cell[0]), mk(cell[1])];
  const pending = gens.map((g) => g.next().value as { obj: { v: number }; kind: string; v?: number } | undefined);
  let steps = 0;
  for (let live = 2; live > 0; ) {
    live = 0;
    for (let t = 0; t < 2; t++) {
      const op = pending[t];
      if (!op) continue;
      live++;
      const res = op.kind === "read" ? op.obj.v : ((op.obj.v = op.v as number), undefined);
      const r = gens[t].next(res as number);
      pending[t] = r.done ? undefined : (r.value as typeof op);
      steps++;
    }
  }
  return steps;
}
/** Same, but each effect goes through a helper generator (yield*), as model code does. */
function bareDelegating(): number {
  const cell = [{ v: 0 }, { v: 0 }];
  function* read(c: { v: number }): Generator<unknown, number, unknown> {
    return (yield { obj: c, kind: "read" }) as number;
  }
  function* write(c: { v: number }, v: number): Generator<unknown, void, unknown> {
    yield { obj: c, kind: "write", v };
  }
  const mk = (c: { v: number }) =>
    (function* () {
      for (let i = 0; i < STEPS_PER_THREAD; i++) {
        const v = yield* read(c);
        yield* write(c, v + 1);
      }
    })();
  const gens = [mk(cell[0]), mk(cell[1])];
  const pending = gens.map((g) => g.next().value as { obj: { v: number }; kind: string; v?: number } | undefined);
  let steps = 0;
  for (let live = 2; live > 0; ) {
    live = 0;
    for (let t = 0; t < 2; t++) {
      const op = pending[t];
      if (!op) continue;
      live++;
      const res = op.kind === "read" ? op.obj.v : ((op.obj.v = op.v as number), undefined);
      const r = gens[t].next(res as number);
      pending[t] = r.done ? undefined : (r.value as typeof op);
      steps++;
    }
  }
  return steps;
}
const straightLine = model("two independent loops", () => {
  const vars = [new SharedVar("a", 0), new SharedVar("b", 0)];
  const body = (x: SharedVar<number>) =>
    function* () {
      for (let i = 0; i < STEPS_PER_THREAD; i++) {
        const v = yield* x.read();
        yield* x.write(v + 1);
      }
    };
  return { threads: { A: body(vars[0]), B: body(vars[1]) } };
});
function explorerRun(): number {
  return new Execution(straightLine as never, new DecisionScheduler([]), 10_000_000).run().steps;
}

/** One line of the printed table: what was measured, the explorer's number, the baseline, the verdict. */
export interface BenchRow {
  readonly measure: string;
  readonly explorer: string;
  readonly baseline: string;
  readonly result: string;
}

export async function main(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const failures: string[] = [];
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  // 1. stepping speed
  const bare: number[] = [], bareDel: number[] = [], expl: number[] = [], dfsRate: number[] = [];
  bareLoop(); bareDelegating(); explorerRun(); // warm up the JIT
  for (let i = 0; i < RUNS; i++) {
    const b = timed(bareLoop);
    bare.push((b.v / b.ms) * 1000);
    const bd = timed(bareDelegating);
    bareDel.push((bd.v / bd.ms) * 1000);
    const e = timed(explorerRun);
    expl.push((e.v / e.ms) * 1000);
    const d = timed(() => search(counterClaim(6, true, "dfs"), { stopEarly: false }));
    dfsRate.push((d.v.stats.steps / d.ms) * 1000);
  }
  rows.push({ measure: "steps/s, one execution (2 threads)", explorer: fmt(median(expl)), baseline: `bare generator loop ${fmt(median(bare))}`, result: `${(median(bare) / median(expl)).toFixed(2)}x slower` });
  rows.push({ measure: "steps/s, same vs yield* helpers", explorer: fmt(median(expl)), baseline: `bare loop with yield* ${fmt(median(bareDel))}`, result: `${(median(bareDel) / median(expl)).toFixed(2)}x slower` });
  rows.push({ measure: "steps/s, DFS search (re-runs setup)", explorer: fmt(median(dfsRate)), baseline: "", result: "locked counter(6)" });

  // 2 + 3. executions and time to verdict
  const families: [string, (n: number, s: "dfs" | "dpor") => ReturnType<typeof indexerClaim>, number[]][] = [
    ["indexer", indexerClaim, [12, 13, 14, 15]],
    ["filesystem", filesystemClaim, [14, 16, 18, 19]],
  ];
  for (const [fam, mk, sizes] of families) {
    for (const n of sizes) {
      const ms: number[] = [];
      let r = search(mk(n, "dpor"), { stopEarly: false });
      for (let i = 0; i < RUNS; i++) {
        const t = timed(() => search(mk(n, "dpor"), { stopEarly: false }));
        r = t.v;
        ms.push(t.ms);
      }
      const d = timed(() => search({ ...mk(n, "dfs"), budget: { executions: DFS_CAP, steps: DFS_STEPS } }, { stopEarly: false }));
      const published = PUBLISHED[`${fam}(${n})`];
      // runs = every execution started, sleep-set-blocked ones included; an optimal DPOR starts
      // exactly one per trace. More runs than traces is a regression of the reduction: the bench fails.
      const over = r.stats.runs > published;
      if (over) failures.push(`${fam}(${n}): ${r.stats.runs} runs > ${published} published traces`);
      rows.push({
        measure: `${fam}(${n}) executions/runs, ms to verdict`,
        explorer: `DPOR ${r.stats.executions} executions, ${r.stats.runs} runs, ${median(ms).toFixed(0)} ms`,
        baseline: `${published} traces (published); DFS ${d.v.complete ? "" : ">"}${d.v.stats.executions}${d.v.complete ? "" : ` (cut at ${(d.ms / 1000).toFixed(1)} s)`}`,
        result: `${r.stats.executions === published ? "executions = traces" : "executions DIFFER from traces"}; runs/traces ${(r.stats.runs / published).toFixed(2)}${over ? " FAIL" : ""}`,
      });
    }
  }

  // 3b. optimal DPOR (wakeup trees) vs source-DPOR, same claims, same process, alternating runs.
  const optimal = (spec: ClaimSpec): ClaimSpec => ({ ...spec, search: { strategy: "dpor", optimal: true } });
  const pairs: [string, () => ClaimSpec, number][] = [
    ...[12, 13, 14, 15].map((n): [string, () => ClaimSpec, number] => [`indexer(${n})`, () => indexerClaim(n), PUBLISHED[`indexer(${n})`]]),
    ...[14, 16, 18, 19].map((n): [string, () => ClaimSpec, number] => [`filesystem(${n})`, () => filesystemClaim(n), PUBLISHED[`filesystem(${n})`]]),
    ...[3, 4, 5, 6].map((n): [string, () => ClaimSpec, number] => [`lastzero(${n})`, () => lastzeroClaim(n), COUNTED[`lastzero(${n})`]]),
    // Workers spawned by two threads: the same traces; a worker's index depends on the spawn order.
    ...[4, 5, 6].map((n): [string, () => ClaimSpec, number] => [`spawned lastzero(${n})`, () => lastzeroClaim(n, "dpor", true), COUNTED[`spawned lastzero(${n})`]]),
    // Declared out of order: a race of a later-numbered thread reversed under an earlier one's (the
    // wakeup sequence must be notdep over the whole execution; cut at the race, 49 runs).
    ["lastzero(5) declared 1,3,5,2,4", () => ({ ...lastzeroClaim(5), model: lastzero(5, false, 0, [1, 3, 5, 2, 4]) }), COUNTED["lastzero(5)"]],
    ...[3, 4].map((n): [string, () => ClaimSpec, number] => [`racy counter(${n})`, () => counterClaim(n, false, "dpor"), COUNTED[`racy counter(${n})`]]),
    ...[4, 5].map((n): [string, () => ClaimSpec, number] => [`locked counter(${n})`, () => counterClaim(n, true, "dpor"), COUNTED[`locked counter(${n})`]]),
  ];
  for (const [name, mk, traces] of pairs) {
    const src: number[] = [], opt: number[] = [];
    let rs = search(mk(), { stopEarly: false }), ro = search(optimal(mk()), { stopEarly: false });
    for (let i = 0; i < RUNS; i++) {
      const a = timed(() => search(mk(), { stopEarly: false }));
      const b = timed(() => search(optimal(mk()), { stopEarly: false }));
      rs = a.v; ro = b.v;
      src.push(a.ms); opt.push(b.ms);
    }
    const over = ro.stats.runs > traces;
    if (over) failures.push(`${name} (optimal DPOR): ${ro.stats.runs} runs > ${traces} traces`);
    const verdicts = rs.counts.true === ro.counts.true && rs.counts.false === ro.counts.false && rs.complete === ro.complete ? "" : " VERDICT COUNTS DIFFER";
    rows.push({
      measure: `${name}: optimal vs source-DPOR`,
      explorer: `optimal ${ro.stats.executions} executions, ${ro.stats.runs} runs, ${median(opt).toFixed(0)} ms`,
      baseline: `${traces} traces; source ${rs.stats.executions} executions, ${rs.stats.runs} runs, ${median(src).toFixed(0)} ms`,
      result: `runs/traces ${(ro.stats.runs / traces).toFixed(2)} vs ${(rs.stats.runs / traces).toFixed(2)}; time ${(median(opt) / Math.max(1e-9, median(src))).toFixed(2)}x${over ? " FAIL" : ""}${verdicts}`,
    });
  }

  // 4. worker speedup
  const N = Number(process.env.BENCH_PAR_N ?? 8); // 8: ~1.5 s sequential; 9: ~12 s
  const claimsUrl = new URL("./explorer-claims.js", import.meta.url);
  const one: number[] = [], two: number[] = [];
  let execs = 0, mismatch = "";
  const load = loadavg()[0];
  await exploreParallel({ module: claimsUrl, export: "counterClaim", args: [3, true, "dfs"], workers: 2, shards: 2 }); // start the pool
  for (let i = 0; i < RUNS; i++) {
    const a = timed(() => search(counterClaim(N, true, "dfs"), { stopEarly: false }));
    one.push(a.ms);
    execs = a.v.stats.executions;
    const t = now();
    const p = await exploreParallel({ module: claimsUrl, export: "counterClaim", args: [N, true, "dfs"], workers: 2, shards: 8 });
    two.push(now() - t);
    if (p.stats.executions !== execs) mismatch = ` MISMATCH: ${p.stats.executions} vs ${execs} executions`;
  }
  rows.push({
    measure: `2 workers, locked counter(${N}) DFS (${execs} execs)`,
    explorer: `${median(two).toFixed(0)} ms`,
    baseline: `1 thread ${median(one).toFixed(0)} ms`,
    result: `${(median(one) / median(two)).toFixed(2)}x speedup (load avg ${load.toFixed(1)} on ${availableParallelism()} cpus)${mismatch}`,
  });

  // 5. work stealing on DPOR: a claim of a few seconds, one thread against two workers, same process.
  const S = Number(process.env.BENCH_STEAL_N ?? 16); // indexer(16): 32 768 executions, ~2 s sequential (indexer(15) fell to ~0.25 s, too short to show a speedup)
  const seqMs: number[] = [], stealMs: number[] = [];
  let seqExecs = 0, stealExecs: number[] = [], units: number[] = [], verdicts = new Set<string>();
  const loadSteal = loadavg()[0];
  for (let i = 0; i < RUNS; i++) {
    const a = timed(() => search(indexerClaim(S, "dpor"), { stopEarly: false }));
    seqMs.push(a.ms);
    seqExecs = a.v.stats.executions;
    const t = now();
    const p = await exploreParallel({ module: claimsUrl, export: "indexerClaim", args: [S, "dpor"], workers: 2, stopEarly: false });
    stealMs.push(now() - t);
    stealExecs.push(p.stats.executions);
    units.push(p.shards);
    verdicts.add(p.observed);
  }
  rows.push({
    measure: `2 workers, indexer(${S}) DPOR, work stealing`,
    explorer: `${median(stealMs).toFixed(0)} ms, ${median(stealExecs)} executions, ${median(units)} units`,
    baseline: `1 thread ${median(seqMs).toFixed(0)} ms, ${seqExecs} executions`,
    result: `${(median(seqMs) / median(stealMs)).toFixed(2)}x speedup (load avg ${loadSteal.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after, on ${availableParallelism()} cpus); verdict ${[...verdicts].join("/")}`,
  });

  const table = [["measure", "explorer", "baseline", "result"], ...rows.map((r) => [r.measure, r.explorer, r.baseline, r.result])];
  const w = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((c, i) => c.padEnd(w[i])).join(" | ").trimEnd();
  await closeWorkers();
  console.log(`Explorer benchmark: medians of ${RUNS} runs (DFS rows: one run, budget-capped), node ${process.version}`);
  console.log([line(table[0]), w.map((n) => "-".repeat(n)).join("-|-"), ...table.slice(1).map(line)].join("\n"));
  if (failures.length) {
    console.log(`FAIL: more runs than known traces (optimal DPOR starts one per trace):\n  ${failures.join("\n  ")}`);
    process.exitCode = 1;
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
