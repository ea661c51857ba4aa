// Worker-thread parallel exploration on one machine (Node only; index.ts does not
// import this file, so chapters stay Node-free).
//
// The claim spec must be importable by module URL in every worker, because models
// are code, not data: pass { module, export } where the export is a ClaimSpec or a
// function returning one (called with `args`). Each worker runs disjoint shards of
// the search tree (config.shard, see tree.ts / dpor.ts); the main thread merges the
// shard records (mergeRecords) and decides the verdict once (decide), so the result
// is the same object claim()/check() return. DPOR claims are not split by root thread but by
// work stealing (steal.ts): the main thread is the coordinator, each worker explores one
// subtree at a time and, asked through shared memory between two executions, gives away the
// top of its subtree. Workers need compiled JavaScript
// (node cannot load .ts in workers on Node 20): run from dist/ after `tsc -p tsconfig.build.json`.

import { availableParallelism } from "node:os";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { decide, mergeRecords, search, type ClaimResult, type ClaimSpec, type SearchRecord } from "./claim.ts";
import { DEFAULT_BUDGET_EXECUTIONS, DEFAULT_BUDGET_STEPS, DEFAULT_FIELDS, DEFAULT_MAX_STEPS, normaliseSearch } from "./config.ts";
import { clockMs } from "./guard.ts";
import { StealCoordinator, SubtreeSearch, type StealMessage, type Unit } from "./steal.ts";
import { ExplorerError } from "./errors.ts";
import { subscribedModel } from "./subscriptions.ts";

export interface ParallelSpec {
  /** URL (or absolute path) of an ES module exporting the claim spec. */
  readonly module: string | URL;
  /** Export name: a ClaimSpec, or a function returning one. */
  readonly export: string;
  /** Arguments for a function export (structured-clonable). */
  readonly args?: readonly unknown[];
  /** Worker threads; default os.availableParallelism(). */
  readonly workers?: number;
  /** DFS only: shards (units of work handed to idle workers); default 4 × workers. DPOR steals work instead. */
  readonly shards?: number;
  /** Stop as soon as the predicate was seen both true and false (default true, as claim() does). */
  readonly stopEarly?: boolean;
}

export interface ParallelResult extends ClaimResult {
  readonly workers: number;
  /** Shards (DFS) or units, i.e. subtrees handed out (DPOR, work stealing). */
  readonly shards: number;
  /** DPOR: how many times a worker gave away the top of its subtree. */
  readonly splits?: number;
  /** Per-shard records, in shard order. */
  readonly parts: readonly SearchRecord[];
}

interface Job {
  readonly kind: "shard";
  readonly module: string;
  readonly export: string;
  readonly args: readonly unknown[];
  readonly shard: number;
  readonly count: number;
}

const toUrl = (m: string | URL): string => (m instanceof URL ? m.href : /^[a-z]+:/i.test(m) ? m : new URL(`file://${m}`).href);

/** Import a claim spec by module URL and export name (a ClaimSpec, or a function called with args). */
export async function loadSpec(module: string, name: string, args: readonly unknown[]): Promise<ClaimSpec> {
  const mod = (await import(module)) as Record<string, unknown>;
  const v = mod[name];
  if (v === undefined) throw new ExplorerError(`Module ${module} has no export "${name}"; export the claim spec (or a function returning it) under that name.`);
  return (typeof v === "function" ? (v as (...a: unknown[]) => ClaimSpec)(...args) : v) as ClaimSpec;
}

function shardSpec(spec: ClaimSpec, index: number, count: number): ClaimSpec {
  const cfg = normaliseSearch(spec.search);
  const executions = spec.budget?.executions;
  return { ...spec, search: { ...cfg, shard: { index, count } }, budget: { ...spec.budget, ...(executions ? { executions: Math.ceil(executions / count) } : {}) } };
}

// Idle workers are kept (unref'd, so they never keep the process alive) and reused by the
// next exploreParallel call: a worker's start-up and module imports are paid once.
const idle: Worker[] = [];
const WORKER_DATA = { explorerWorker: true };

function takeWorker(): Worker {
  let w = idle.pop();
  if (!w) {
    const fresh = new Worker(new URL(import.meta.url), { workerData: WORKER_DATA });
    // A worker that dies while idle must not be handed out again.
    fresh.on("exit", () => {
      const i = idle.indexOf(fresh);
      if (i >= 0) idle.splice(i, 1);
    });
    w = fresh;
  }
  w.ref();
  return w;
}

function returnWorker(w: Worker): void {
  w.removeAllListeners("message");
  w.removeAllListeners("error");
  w.unref();
  idle.push(w);
}

/** Terminate the idle worker pool (optional: idle workers never keep the process alive). */
export async function closeWorkers(): Promise<void> {
  await Promise.all(idle.splice(0).map((w) => w.terminate()));
}

/** Explore one claim with worker threads; resolves to the merged, decided result. */
export async function exploreParallel(p: ParallelSpec): Promise<ParallelResult> {
  const module = toUrl(p.module);
  const args = p.args ?? [];
  const spec = await loadSpec(module, p.export, args);
  const strategy = normaliseSearch(spec.search).strategy ?? "dpor";
  if (strategy !== "dfs" && strategy !== "dpor")
    throw new ExplorerError(`exploreParallel shards only the exhaustive strategies (dfs, dpor), not "${strategy}"; run sampled searches with different seeds instead.`);
  const workers = Math.max(1, p.workers ?? availableParallelism());
  if (strategy === "dpor") return exploreStealing(spec, module, p.export, args, workers, p.stopEarly ?? true);
  const count = Math.max(1, p.shards ?? workers * 4);
  const parts: SearchRecord[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(workers, count) }, () =>
      new Promise<void>((resolve, reject) => {
        const w = takeWorker();
        const onExit = (code: number) => reject(new ExplorerError(`A worker exited (code ${code}) in the middle of a shard; re-run, and check the model for process.exit calls.`));
        w.once("exit", onExit);
        const fail = (e: unknown) => {
          w.off("exit", onExit);
          void w.terminate();
          reject(e);
        };
        const give = () => {
          if (next >= count) {
            w.off("exit", onExit);
            returnWorker(w);
            resolve();
            return;
          }
          const job: Job = { kind: "shard", module, export: p.export, args, shard: next++, count };
          w.postMessage(job);
        };
        w.on("message", (m: { shard: number; record?: SearchRecord; error?: string }) => {
          if (m.error !== undefined) return fail(new ExplorerError(`Shard ${m.shard + 1}/${count} failed in a worker: ${m.error}`));
          parts[m.shard] = m.record as SearchRecord;
          give();
        });
        w.on("error", fail);
        give();
      }),
    ),
  );
  const result = decide(spec, mergeRecords(parts));
  return { ...result, workers, shards: count, parts };
}

// ---- work stealing (DPOR) ----

interface StealJob {
  readonly kind: "steal";
  readonly module: string;
  readonly export: string;
  readonly args: readonly unknown[];
  readonly unit: Unit;
  /** This worker's slot in `flags`. */
  readonly me: number;
  readonly workers: number;
  readonly shared: SharedArrayBuffer;
  readonly stopEarly: boolean;
}

type FromWorker = StealMessage | { kind: "nosplit" } | { kind: "done"; unit: number; record: SearchRecord } | { kind: "error"; unit: number; error: string };

/**
 * Shared memory: Int32 flags [0, W) "please split" per worker, W / W+1 predicate seen true /
 * false, W+2 abort; then two BigInt64 totals over every worker: executions, steps (the budget).
 */
const sharedLayout = (sab: SharedArrayBuffer, W: number) => ({ flags: new Int32Array(sab, 0, W + 3), totals: new BigInt64Array(sab, 8 * (W + 3), 2) });

function exploreStealing(spec: ClaimSpec, module: string, name: string, args: readonly unknown[], W: number, stopEarly: boolean): Promise<ParallelResult> {
  const t0 = clockMs();
  const sab = new SharedArrayBuffer(8 * (W + 3) + 16);
  const { flags, totals } = sharedLayout(sab, W);
  const maxExec = BigInt(spec.budget?.executions ?? DEFAULT_BUDGET_EXECUTIONS), maxSteps = BigInt(spec.budget?.steps ?? DEFAULT_BUDGET_STEPS);
  const coord = new StealCoordinator(true);
  const records: SearchRecord[] = [];
  const ws = Array.from({ length: W }, () => takeWorker());
  const busy: boolean[] = new Array(W).fill(false), asked: boolean[] = new Array(W).fill(false);
  let splits = 0, retry: ReturnType<typeof setTimeout> | null = null, settled = false;
  return new Promise<ParallelResult>((resolve, reject) => {
    const onExit = (code: number) => fail(new ExplorerError(`A worker exited (code ${code}) in the middle of a subtree; re-run, and check the model for process.exit calls.`));
    const cleanup = () => {
      settled = true;
      if (retry) clearTimeout(retry);
      ws.forEach((w) => w.off("exit", onExit));
    };
    const fail = (e: unknown) => {
      if (settled) return;
      cleanup();
      ws.forEach((w) => void w.terminate());
      reject(e);
    };
    const dispatch = () => {
      if (settled) return;
      // Once the verdict is Sometimes (or the shared budget is spent), queued units would stop at once: drop them.
      const over = (stopEarly && Atomics.load(flags, W) && Atomics.load(flags, W + 1)) || Atomics.load(totals, 0) >= maxExec || Atomics.load(totals, 1) >= maxSteps;
      for (let i = 0; i < W && !over; i++) {
        if (busy[i]) continue;
        const unit = coord.take();
        if (!unit) break;
        busy[i] = true;
        const job: StealJob = { kind: "steal", module, export: name, args, unit, me: i, workers: W, shared: sab, stopEarly };
        ws[i].postMessage(job);
      }
      const idle = busy.filter((b) => !b).length;
      if (idle === W) {
        cleanup();
        ws.forEach(returnWorker);
        const merged = mergeRecords(records);
        // Units left in the queue (dropped above) are unexplored subtrees.
        const result = decide(spec, { ...merged, complete: merged.complete && coord.queued === 0, stats: { ...merged.stats, ms: clockMs() - t0 } });
        resolve({ ...result, workers: W, shards: coord.created, splits, parts: records });
        return;
      }
      // Idle workers and nothing queued: ask busy ones to give away the top of their subtree.
      let want = idle - coord.ready;
      for (let i = 0; i < W && want > 0; i++) {
        if (!busy[i] || asked[i]) continue;
        asked[i] = true;
        Atomics.store(flags, i, 1);
        want--;
      }
    };
    ws.forEach((w, i) => {
      w.once("exit", onExit);
      w.on("error", fail);
      w.on("message", (m: FromWorker) => {
        if (settled) return;
        if (m.kind === "error") return fail(new ExplorerError(`A subtree failed in a worker: ${m.error}`));
        if (m.kind === "nosplit") {
          // Nothing to give yet (the worker is deep in a choose() odometer, or near the end): ask again shortly.
          asked[i] = false;
          retry ??= setTimeout(() => ((retry = null), dispatch()), 2);
          return;
        }
        if (m.kind === "done") {
          records.push(m.record);
          busy[i] = false;
          asked[i] = false;
          Atomics.store(flags, i, 0);
        } else {
          try {
            coord.receive(m);
          } catch (e) {
            return fail(e);
          }
          if (m.kind === "split") {
            splits++;
            asked[i] = false;
          }
        }
        dispatch();
      });
    });
    dispatch();
  });
}

const specCache = new Map<string, Promise<ClaimSpec>>();

function runStealJob(job: StealJob, post: (m: FromWorker) => void): Promise<void> {
  const key = JSON.stringify([job.module, job.export, job.args]);
  let spec = specCache.get(key);
  if (!spec) specCache.set(key, (spec = loadSpec(job.module, job.export, job.args)));
  return spec.then((spec) => {
    const W = job.workers;
    const { flags, totals } = sharedLayout(job.shared, W);
    const maxExec = BigInt(spec.budget?.executions ?? DEFAULT_BUDGET_EXECUTIONS), maxSteps = BigInt(spec.budget?.steps ?? DEFAULT_BUDGET_STEPS);
    const cfg = normaliseSearch(spec.search);
    const sub = new SubtreeSearch(subscribedModel(spec.model, [spec]), job.unit, cfg.maxSteps ?? DEFAULT_MAX_STEPS, post, (cfg.fields ?? DEFAULT_FIELDS) === true);
    // The budget is shared by every worker (totals); this unit's own search() has none.
    const unit: ClaimSpec = {
      ...spec,
      predicate: (e) => {
        const v = !!spec.predicate(e);
        Atomics.store(flags, v ? W : W + 1, 1);
        return v;
      },
      budget: { executions: Number.MAX_SAFE_INTEGER, steps: Number.MAX_SAFE_INTEGER },
    };
    const poll = (s: SubtreeSearch): boolean => {
      if (Atomics.load(flags, W + 2) || (job.stopEarly && Atomics.load(flags, W) && Atomics.load(flags, W + 1))) return false;
      if (Atomics.load(totals, 0) >= maxExec || Atomics.load(totals, 1) >= maxSteps) return false;
      if (Atomics.load(flags, job.me)) {
        Atomics.store(flags, job.me, 0);
        post(s.split() ?? { kind: "nosplit" });
      }
      return true;
    };
    const record = search(unit, {
      stopEarly: false,
      explore: (ctx) =>
        sub.explore({
          ...ctx,
          ran(x) {
            ctx.ran(x);
            Atomics.add(totals, 1, BigInt(x.steps));
          },
          visit(x) {
            Atomics.add(totals, 0, 1n);
            return ctx.visit(x);
          },
        }, poll),
    });
    post({ kind: "done", unit: job.unit.id, record });
  });
}

// ---- worker side ----
if (!isMainThread && (workerData as { explorerWorker?: boolean } | null)?.explorerWorker && parentPort) {
  const port = parentPort;
  port.on("message", (job: Job | StealJob) => {
    if (job.kind === "steal") {
      runStealJob(job, (m) => port.postMessage(m)).catch((e: unknown) => port.postMessage({ kind: "error", unit: job.unit.id, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }));
      return;
    }
    loadSpec(job.module, job.export, job.args)
      .then((spec) => port.postMessage({ shard: job.shard, record: search(shardSpec(spec, job.shard, job.count)) }))
      .catch((e: unknown) => port.postMessage({ shard: job.shard, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }));
  });
}
