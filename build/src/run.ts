// Stage 4: run chapters, as work units (a chapter's definitions and one test block, evaluated
// afresh in a Compartment of their own), on one worker thread per lane (sandbox/worker.ts), and
// collect what each block did. A watchdog stops a worker whose chapter stopped making progress
// (a thread that loops between two steps) or that ran past the safety net; the others go on.

import { existsSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { Extract } from "./extract.ts";
import { HEARTBEAT_BYTES, HeartbeatReader } from "./sandbox/heartbeat.ts";
import { ModuleCompiler, ModuleError, unitModuleId, type ChapterBundle } from "./sandbox/modules.ts";
import type { Frame, UnitRequest, WorkerInput, WorkerMessage } from "./sandbox/protocol.ts";

export type { Frame } from "./sandbox/protocol.ts";

export interface TestRun {
  name: string;
  state: "passed" | "failed" | "skipped" | "pending";
  durationMs: number | null;
  error: { message: string; frame: Frame | null } | null;
  meta: { blockId?: string; line?: number; records?: unknown[]; states?: Record<string, unknown> } | null;
}

export interface ModuleRun {
  /** Absolute path of the chapter. */
  file: string;
  tests: TestRun[];
  /** Errors outside any test: a throw while the chapter loaded. */
  errors: { message: string; frame: Frame | null }[];
  durationMs: number;
  /**
   * Set when the run was cut short by something that is not a property of the chapter alone
   * (the watchdog, the safety net, a crashed worker): such a result is never cached.
   */
  interrupted?: string;
}

/** A chapter whose beat stops moving this long is stopped (an infinite loop between two steps). */
export const STALL_S = Number(process.env.BOOK_STALL_S ?? 60);
/**
 * Safety net on one unit's wall-clock time (a chapter's definitions and one test block). Verdicts never depend on it: budgets count
 * executions and steps. When it fires, the chapter fails with a message that says so.
 */
export const CHAPTER_LIMIT_S = Number(process.env.BOOK_CHAPTER_LIMIT_S ?? 600);

export interface RunOptions {
  /** Run only these block ids (the others are skipped). */
  only?: string[] | null;
  replayToken?: string | null;
  /** Bench baseline only: no lockdown, no Compartment. */
  unconfined?: boolean;
  /** Longest first, so that two workers finish together (previous durations by `expectedKey`). */
  expectedMs?: ReadonlyMap<string, number>;
  /** Watch mode: these chapters' units first (the chapter just saved: its verdicts come first). */
  first?: ReadonlySet<string>;
  /** Workers at once (default: the machine's parallelism). */
  workers?: number;
  /** Tests only: busy-loop iterations added to every step, to show that verdicts ignore speed. */
  slowdown?: number;
  /** `npm run chapter`: the blocks in `only` were named by hand, so a `skip` block among them runs. */
  runNamedSkipped?: boolean;
  /** runChapters: where transpiled modules are kept between runs (transpile-cache.ts); none by default. */
  transpileCache?: string | null;
  /** Watch mode: workers kept from one build to the next (WorkerPool); without it, a call's
   *  workers are closed when it ends. */
  pool?: WorkerPool;
}

/** The compiled worker: beside this file in dist/, or in dist/ when the tests import the source. */
function workerFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.join(here, "sandbox/worker.js");
  if (existsSync(beside)) return beside;
  const dist = path.join(here, "../../dist/build/src/sandbox/worker.js");
  if (existsSync(dist)) return dist;
  throw new Error("dist/build/src/sandbox/worker.js is missing: run `npm run compile` (npm test and npm run build do it for you)");
}

/** One work unit of the run stage: a chapter's definitions and one of its test blocks. */
export interface Unit {
  /** Absolute path of the chapter. */
  file: string;
  /** The test block it runs; null: the chapter has no test block, the unit only loads it. */
  block: string | null;
}

/** What one unit did: a ModuleRun of at most one test. */
export interface UnitRun extends ModuleRun {
  block: string | null;
  /** The chapter threw while loading (then `tests` is empty and `errors[0]` says why). */
  loadError?: boolean;
  /** Modules of lib/ the unit linked: 0 when an earlier unit of its worker had (never cached). */
  linkedLib?: number;
}

/** The units of a chapter: one per test block (`only`: those named), or one that only loads it. */
export function unitsOf(file: string, ex: Extract, only?: readonly string[] | null): Unit[] {
  const tests = ex.blocks.filter((b) => b.flags.test && (!only || only.includes(b.id)));
  return tests.length > 0 ? tests.map((b) => ({ file, block: b.id })) : [{ file, block: null }];
}

/**
 * A chapter's run as a per-chapter run reports it, from its units: the tests in block order; a
 * load error (every unit meets the same one: loading is deterministic) once, and then no test ran.
 */
export function mergeUnits(file: string, runs: readonly UnitRun[]): ModuleRun {
  const out: ModuleRun = { file, tests: [], errors: [], durationMs: 0 };
  for (const u of runs) out.durationMs += u.durationMs;
  const load = runs.find((u) => u.loadError);
  if (load) out.errors.push(load.errors[0]!);
  for (const u of runs) {
    if (!load) out.tests.push(...u.tests);
    for (const e of u.errors) if (!u.loadError) out.errors.push(e);
    if (u.interrupted) out.interrupted ??= u.interrupted;
  }
  return out;
}

export async function runChapters(root: string, files: readonly string[], extracts: ReadonlyMap<string, Extract>, opts: RunOptions = {}): Promise<{ modules: ModuleRun[] }> {
  const units = files.flatMap((f) => unitsOf(f, extracts.get(f)!, opts.only));
  const runs = await runUnits(new ModuleCompiler(root, extracts, opts.transpileCache ?? null), units, opts);
  return { modules: files.map((f) => mergeUnits(f, runs.filter((u) => u.file === f))) };
}

/**
 * Runs units on up to one worker per core, balanced by unit, not by chapter: the chapters in
 * `first` (watch mode: the one just saved), then the longest chapters first (by `expectedMs`,
 * keyed by expectedKey), and within a chapter its longest units, so both lanes share a long
 * chapter. A lane keeps its worker from chapter to chapter (UnitWorker)
 * and starts another only when one was stopped or crashed. Results come back in the order of `units`.
 */
export async function runUnits(compiler: ModuleCompiler, units: readonly Unit[], opts: RunOptions & { onUnit?: (u: UnitRun) => void } = {}): Promise<UnitRun[]> {
  const est = (u: Unit) => opts.expectedMs?.get(expectedKey(u)) ?? 0;
  const chapterMs = new Map<string, number>();
  for (const u of units) chapterMs.set(u.file, (chapterMs.get(u.file) ?? 0) + est(u));
  const first = (f: string) => (opts.first?.has(f) ? 1 : 0);
  const order = units.map((u, i) => ({ u, i })).sort((a, b) =>
    a.u.file === b.u.file ? est(b.u) - est(a.u) || a.i - b.i : first(b.u.file) - first(a.u.file) || chapterMs.get(b.u.file)! - chapterMs.get(a.u.file)! || (a.u.file < b.u.file ? -1 : 1));
  const bundles = new Map<string, ChapterBundle | ModuleError>();
  const bundleOf = (file: string) => {
    let b = bundles.get(file);
    if (!b) {
      try {
        b = compiler.bundleOf(file, units.filter((u) => u.file === file).map((u) => unitModuleId(u.file, u.block)));
      } catch (e) {
        if (!(e instanceof ModuleError)) throw e;
        b = e;
      }
      bundles.set(file, b);
    }
    return b;
  };
  const results: UnitRun[] = new Array(units.length);
  const width = Math.max(1, Math.min(order.length, opts.workers ?? os.availableParallelism()));
  let next = 0;
  const lane = async () => {
    let w: UnitWorker | null = null;
    try {
      while (next < order.length) {
        const { u, i } = order[next++]!;
        const bundle = bundleOf(u.file);
        let r: UnitRun;
        if (bundle instanceof ModuleError) {
          r = { file: u.file, block: u.block, tests: [], errors: [{ message: bundle.message, frame: { file: bundle.file, line: bundle.line, col: 1 } }], durationMs: 0, loadError: true };
        } else {
          if (w?.dead) w = null;
          w ??= opts.pool?.take(opts) ?? new UnitWorker(opts);
          r = await w.run(u, bundle);
          if (r.loadError && bundle.whole) r = await runOwnText(compiler, u, opts);
        }
        results[i] = r;
        opts.onUnit?.(r);
      }
    } finally {
      if (w && opts.pool) opts.pool.give(w, opts);
      else w?.close();
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
  return results;
}

/**
 * A unit whose whole-chapter module did not load (modules.ts bundleOf), run on its own text in a
 * worker of its own: what its cache key (hash.ts unitHash) says it is. Another test block's text
 * can make the whole chapter fail to load; it must not fail this unit, nor stay in its cached result.
 */
async function runOwnText(compiler: ModuleCompiler, u: Unit, opts: RunOptions): Promise<UnitRun> {
  let own: ChapterBundle;
  try {
    own = compiler.bundleOf(u.file, [unitModuleId(u.file, u.block)], false);
  } catch (e) {
    if (!(e instanceof ModuleError)) throw e;
    return { file: u.file, block: u.block, tests: [], errors: [{ message: e.message, frame: { file: e.file, line: e.line, col: 1 } }], durationMs: 0, loadError: true };
  }
  const solo = new UnitWorker(opts);
  try {
    return await solo.run(u, own);
  } finally {
    solo.close();
  }
}

/**
 * Workers kept idle between runUnits calls (watch mode's builds), so that the next edit's units
 * run on code V8 has already optimised instead of on a new isolate: a worker brings nothing of a
 * unit to the next but the hardened lib/ (UnitWorker), and a lib/ edit is linked afresh
 * (sandbox/worker.ts `useBundle`). Kept by what the worker was started with.
 */
export class WorkerPool {
  private readonly idle = new Map<string, UnitWorker[]>();
  private static key(o: RunOptions): string {
    return JSON.stringify([o.replayToken ?? null, !!o.unconfined, o.slowdown ?? 0]);
  }
  take(o: RunOptions): UnitWorker | undefined {
    const list = this.idle.get(WorkerPool.key(o));
    let w = list?.pop();
    while (w?.dead) w = list?.pop();
    return w;
  }
  give(w: UnitWorker, o: RunOptions): void {
    if (w.dead) return;
    const k = WorkerPool.key(o);
    const list = this.idle.get(k);
    if (list) list.push(w);
    else this.idle.set(k, [w]);
  }
  close(): void {
    for (const list of this.idle.values()) for (const w of list) w.close();
    this.idle.clear();
  }
}

/** The key of a unit's previous duration in `RunOptions.expectedMs`. */
export function expectedKey(u: Unit): string {
  return `${u.file}\0${u.block ?? ""}`;
}

/**
 * A worker thread that runs units one at a time, under the watchdog, of whichever chapters its
 * lane reaches: a unit is evaluated in a Compartment of its own whatever ran before it, so a lane
 * keeps its worker from one chapter to the next, and with it the code V8 optimised for lib/. A
 * worker per chapter made each one optimise lib/ again: 28 workers in a cold build, and about a
 * third of the build's CPU in V8's compiler threads.
 */
export class UnitWorker {
  private readonly worker: Worker;
  private readonly beat: HeartbeatReader;
  /** The worker was stopped or crashed: the lane starts another. */
  dead = false;
  /** The bundle the worker has (sent with the first unit of each chapter, and again after an
   *  edit: watch mode's next build compiles new bundles). */
  private bundle: ChapterBundle | null = null;
  private onMessage: ((m: WorkerMessage) => void) | null = null;
  private onGone: ((message: string) => void) | null = null;

  constructor(private readonly opts: RunOptions) {
    const heartbeat = new SharedArrayBuffer(HEARTBEAT_BYTES);
    const input: WorkerInput = { heartbeat, replayToken: opts.replayToken ?? null, unconfined: !!opts.unconfined, slowdown: opts.slowdown ?? 0 };
    this.beat = new HeartbeatReader(heartbeat);
    this.worker = new Worker(workerFile(), { workerData: input, stdout: false, stderr: false });
    this.worker.on("message", (m: WorkerMessage) => this.onMessage?.(m));
    this.worker.on("error", (e) => { this.dead = true; this.onGone?.(`the chapter's worker crashed: ${e.message}`); });
    this.worker.on("exit", () => { this.dead = true; this.onGone?.("the chapter's worker exited before it finished (out of memory?)"); });
  }

  close(): void {
    this.dead = true;
    this.onMessage = null;
    this.onGone = null;
    void this.worker.terminate();
  }

  run(u: Unit, bundle: ChapterBundle): Promise<UnitRun> {
    const { file } = u;
    const run: UnitRun = { file, block: u.block, tests: [], errors: [], durationMs: 0 };
    const t0 = performance.now();
    return new Promise((resolve) => {
      let block: { id: string; line: number } | null = null;
      let claim: { label: string; frame: Frame | null } | null = null;
      let settled = false;
      // `workerMs`: as the worker measured it; otherwise (stopped, crashed) as seen from here.
      const finish = (workerMs?: number) => {
        if (settled) return;
        settled = true;
        clearInterval(watch);
        this.onMessage = null;
        this.onGone = null;
        run.durationMs = workerMs ?? performance.now() - t0;
        resolve(run);
      };
      const stop = (why: string, message: string) => {
        if (settled) return;
        run.interrupted = why;
        const at = claim?.frame ?? (block ? { file, line: block.line, col: 1 } : null);
        if (block) run.tests.push({ name: block.id, state: "failed", durationMs: performance.now() - t0, error: { message, frame: at }, meta: { blockId: block.id, line: block.line, records: [] } });
        else run.errors.push({ message, frame: at });
        this.close();
        finish();
      };
      this.onMessage = (m: WorkerMessage) => {
        switch (m.type) {
          case "block-start": block = { id: m.id, line: m.line }; claim = null; break;
          case "claim": claim = { label: m.label, frame: m.frame }; break;
          case "block": {
            block = null;
            claim = null;
            const error = m.error ? { message: m.error.context ? `${m.error.message}\n  (thrown while the block ran the call at ${rel(m.error.context)})` : m.error.message, frame: m.error.frame } : null;
            run.tests.push({ name: m.id, state: m.state, durationMs: m.durationMs, error, meta: { blockId: m.id, line: m.line, records: JSON.parse(m.records), states: JSON.parse(m.states) } });
            break;
          }
          case "load-error": run.loadError = true; run.errors.push({ message: m.message, frame: m.frame }); break;
          case "crash": run.interrupted = "crash"; run.errors.push({ message: `the chapter's worker crashed: ${m.message}`, frame: null }); this.close(); finish(); break;
          // The worker's own time: this thread may read "done" late (it type-checks meanwhile).
          case "done": run.linkedLib = m.linkedLib; finish(m.durationMs); break;
        }
      };
      this.onGone = (message: string) => {
        if (settled) return;
        run.interrupted = "crash";
        run.errors.push({ message, frame: block ? { file, line: block.line, col: 1 } : null });
        finish();
      };
      if (this.dead) { this.onGone("the chapter's worker exited before it finished (out of memory?)"); return; }
      // The watchdog: polls the heartbeat; it never decides a verdict, it only stops a worker.
      let last = this.beat.beats, lastChange = performance.now();
      const watch = setInterval(() => {
        const now = performance.now();
        const b = this.beat.beats;
        if (b !== last) { last = b; lastChange = now; }
        if (now - lastChange >= STALL_S * 1000) {
          const thread = this.beat.thread();
          const what = claim ? `claim ${claim.label}: ` : "";
          stop("stall", thread !== null
            ? `${what}thread "${thread}" did not reach its next step within ${STALL_S} s (an infinite loop between two steps?); the chapter's worker was stopped`
            : `${what}the chapter made no progress for ${STALL_S} s outside any simulated thread (an infinite loop in the block's own code?); the chapter's worker was stopped`);
        } else if (now - t0 >= CHAPTER_LIMIT_S * 1000) {
          stop("limit", `stopped after ${CHAPTER_LIMIT_S} s: the machine was too slow to finish; this says nothing about the claim (raise BOOK_CHAPTER_LIMIT_S, or run again on an idle machine)`);
        }
      }, 250);
      const named = !!this.opts.runNamedSkipped && u.block !== null && !!this.opts.only?.includes(u.block);
      const request: UnitRequest = { entry: unitModuleId(u.file, u.block), block: u.block, named, ...(this.bundle === bundle ? {} : { bundle }) };
      this.bundle = bundle;
      this.worker.postMessage(request);
    });
  }
}

const rel = (f: Frame) => `${path.relative(process.cwd(), f.file).split(path.sep).join("/")}:${f.line}:${f.col}`;
