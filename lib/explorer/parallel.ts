// Worker-thread parallel exploration on one machine (Node only; index.ts does not
// import this file, so chapters stay Node-free).
//
// The claim spec must be importable by module URL in every worker, because models
// are code, not data: pass { module, export } where the export is a ClaimSpec or a
// function returning one (called with `args`). Each worker runs disjoint shards of
// the search tree (config.shard, see tree.ts / dpor.ts); the main thread merges the
// shard records (mergeRecords) and decides the verdict once (decide), so the result
// is the same object claim()/check() return. Workers need compiled JavaScript
// (node cannot load .ts in workers on Node 20): run from dist/ after `tsc -p tsconfig.build.json`.

import { availableParallelism } from "node:os";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { decide, mergeRecords, search, type ClaimResult, type ClaimSpec, type SearchRecord } from "./claim.ts";
import { normaliseSearch } from "./config.ts";
import { ExplorerError } from "./errors.ts";

export interface ParallelSpec {
  /** URL (or absolute path) of an ES module exporting the claim spec. */
  readonly module: string | URL;
  /** Export name: a ClaimSpec, or a function returning one. */
  readonly export: string;
  /** Arguments for a function export (structured-clonable). */
  readonly args?: readonly unknown[];
  /** Worker threads; default os.availableParallelism(). */
  readonly workers?: number;
  /** Shards (units of work handed to idle workers); default 4 × workers. */
  readonly shards?: number;
}

export interface ParallelResult extends ClaimResult {
  readonly workers: number;
  readonly shards: number;
  /** Per-shard records, in shard order. */
  readonly parts: readonly SearchRecord[];
}

interface Job {
  readonly module: string;
  readonly export: string;
  readonly args: readonly unknown[];
  readonly shard: number;
  readonly count: number;
}

const toUrl = (m: string | URL): string => (m instanceof URL ? m.href : /^[a-z]+:/i.test(m) ? m : new URL(`file://${m}`).href);

async function loadSpec(module: string, name: string, args: readonly unknown[]): Promise<ClaimSpec> {
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
          const job: Job = { module, export: p.export, args, shard: next++, count };
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

// ---- worker side ----
if (!isMainThread && (workerData as { explorerWorker?: boolean } | null)?.explorerWorker && parentPort) {
  const port = parentPort;
  port.on("message", (job: Job) => {
    loadSpec(job.module, job.export, job.args)
      .then((spec) => port.postMessage({ shard: job.shard, record: search(shardSpec(spec, job.shard, job.count)) }))
      .catch((e: unknown) => port.postMessage({ shard: job.shard, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }));
  });
}
