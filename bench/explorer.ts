// Explorer benchmark: prints one table (medians of RUNS runs).
//   steps/s of the explorer vs a bare generator-resumption loop (same process),
//   executions under DPOR vs naive DFS vs the published optimal counts,
//   time to verdict, and worker-thread speedup.
// Compile with tsc (see README) and run `node dist/bench/explorer.js`; exports main().

import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { search } from "../lib/explorer/claim.ts";
import { Execution } from "../lib/explorer/execution.ts";
import { DecisionScheduler } from "../lib/explorer/replay.ts";
import { model, SharedVar } from "../lib/explorer/index.ts";
import { exploreParallel } from "../lib/explorer/parallel.ts";
import { counterClaim, filesystemClaim, indexerClaim } from "./explorer-claims.ts";
import { PUBLISHED } from "./explorer-models.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const DFS_CAP = 20_000;
const DFS_MS = 3_000;

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

interface Row { name: string; published: string; dpor: string; dfs: string; dporMs: string; dfsMs: string; note: string }

export async function main(): Promise<void> {
  const out: string[] = [];
  // 1
  const bare: number[] = [], bareDel: number[] = [], expl: number[] = [], dfsRate: number[] = [];
  bareLoop(); bareDelegating(); explorerRun(); // warm up the JIT
  for (let i = 0; i < RUNS; i++) {
    const b = timed(bareLoop);
    bare.push(b.v / b.ms * 1000);
    const bd = timed(bareDelegating);
    bareDel.push(bd.v / bd.ms * 1000);
    const e = timed(explorerRun);
    expl.push(e.v / e.ms * 1000);
    const d = timed(() => search(counterClaim(6, true, "dfs"), { stopEarly: false }));
    dfsRate.push(d.v.stats.steps / d.ms * 1000);
  }
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  out.push(`Explorer benchmark (median of ${RUNS} runs, node ${process.version}, ${availableParallelism()} cpus)`, "");
  out.push(`stepping: explorer (one execution, 2 threads) ${fmt(median(expl))} steps/s`);
  out.push(`          bare generator loop ${fmt(median(bare))} steps/s: ratio ${(median(bare) / median(expl)).toFixed(2)}x`);
  out.push(`          bare loop with yield* helpers (the model authoring style) ${fmt(median(bareDel))} steps/s: ratio ${(median(bareDel) / median(expl)).toFixed(2)}x`);
  out.push(`          explorer DFS search incl. re-running setup per execution (locked counter(6)): ${fmt(median(dfsRate))} steps/s`, "");

  // 2 + 3
  const rows: Row[] = [];
  const families: [string, (n: number, s: "dfs" | "dpor") => ReturnType<typeof indexerClaim>, number[]][] = [
    ["indexer", indexerClaim, [12, 13, 14, 15]],
    ["filesystem", filesystemClaim, [14, 16, 18, 19]],
  ];
  for (const [fam, mk, sizes] of families) {
    for (const n of sizes) {
      const dpor: number[] = [];
      let r = search(mk(n, "dpor"), { stopEarly: false });
      for (let i = 0; i < RUNS; i++) {
        const t = timed(() => search(mk(n, "dpor"), { stopEarly: false }));
        r = t.v;
        dpor.push(t.ms);
      }
      const dfsSpec = { ...mk(n, "dfs"), budget: { executions: DFS_CAP, ms: DFS_MS } };
      const d = timed(() => search(dfsSpec, { stopEarly: false }));
      rows.push({
        name: `${fam}(${n})`,
        published: String(PUBLISHED[`${fam}(${n})`] ?? "?"),
        dpor: `${r.stats.executions}${r.stats.runs > r.stats.executions ? ` (+${r.stats.runs - r.stats.executions} pruned)` : ""}`,
        dfs: d.v.complete ? String(d.v.stats.executions) : `>${d.v.stats.executions}`,
        dporMs: median(dpor).toFixed(0),
        dfsMs: d.ms.toFixed(0) + (d.v.complete ? "" : " (cut)"),
        note: r.stats.executions === PUBLISHED[`${fam}(${n})`] ? "= published" : "differs",
      });
    }
  }
  const header = ["benchmark", "published optimal", "source-DPOR execs", "naive DFS execs", "DPOR ms to verdict", "DFS ms", ""];
  const table = [header, ...rows.map((r) => [r.name, r.published, r.dpor, r.dfs, r.dporMs, r.dfsMs, r.note])];
  const w = header.map((_, c) => Math.max(...table.map((row) => row[c].length)));
  for (const row of table) out.push(row.map((c, i) => c.padEnd(w[i])).join("  ").trimEnd());
  out.push("");

  // 4. worker speedup
  const N = Number(process.env.BENCH_PAR_N ?? 8); // 8: ~1.5 s sequential; 9: ~12 s
  const claimsUrl = new URL("./explorer-claims.js", import.meta.url);
  const one: number[] = [], two: number[] = [];
  let execs = 0;
  for (let i = 0; i < RUNS; i++) {
    const a = timed(() => search(counterClaim(N, true, "dfs"), { stopEarly: false }));
    one.push(a.ms);
    execs = a.v.stats.executions;
    const t = now();
    const p = await exploreParallel({ module: claimsUrl, export: "counterClaim", args: [N, true, "dfs"], workers: 2, shards: 8 });
    two.push(now() - t);
    if (p.stats.executions !== execs) out.push(`WARNING: parallel explored ${p.stats.executions} executions, sequential ${execs}`);
  }
  out.push(`(load average before this row: ${loadavg().map((l) => l.toFixed(1)).join(" ")} — other processes on the machine reduce the speedup)`);
  out.push(`workers: locked counter(${N}) under naive DFS, ${execs} executions: 1 thread ${median(one).toFixed(0)} ms, 2 workers ${median(two).toFixed(0)} ms, speedup ${(median(one) / median(two)).toFixed(2)}x`);
  console.log(out.join("\n"));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
