// Stage 4: run chapters, each in a worker thread of its own (sandbox/worker.ts), and collect
// what each block did. A watchdog stops a worker whose chapter stopped making progress (a thread
// that loops between two steps) or that ran past the safety net; the other chapters go on.

import { existsSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { Extract } from "./extract.ts";
import { HEARTBEAT_BYTES, HeartbeatReader } from "./sandbox/heartbeat.ts";
import { ModuleCompiler, ModuleError } from "./sandbox/modules.ts";
import type { Frame, WorkerInput, WorkerMessage } from "./sandbox/protocol.ts";

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
 * Safety net on a chapter's wall-clock time. Verdicts never depend on it: budgets count
 * executions and steps. When it fires, the chapter fails with a message that says so.
 */
export const CHAPTER_LIMIT_S = Number(process.env.BOOK_CHAPTER_LIMIT_S ?? 600);

export interface RunOptions {
  /** Run only these block ids (the others are skipped). */
  only?: string[] | null;
  replayToken?: string | null;
  /** Bench baseline only: no lockdown, no Compartment. */
  unconfined?: boolean;
  /** Longest chapters first, so that two workers finish together (hint: previous durations). */
  expectedMs?: ReadonlyMap<string, number>;
  /** Workers at once (default: the machine's parallelism). */
  workers?: number;
  /** Tests only: busy-loop iterations added to every step, to show that verdicts ignore speed. */
  slowdown?: number;
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

export async function runChapters(root: string, files: readonly string[], extracts: ReadonlyMap<string, Extract>, opts: RunOptions = {}): Promise<{ modules: ModuleRun[] }> {
  const compiler = new ModuleCompiler(root, extracts);
  const order = [...files].sort((a, b) => (opts.expectedMs?.get(b) ?? 0) - (opts.expectedMs?.get(a) ?? 0));
  const results = new Map<string, ModuleRun>();
  const width = Math.max(1, Math.min(order.length, opts.workers ?? os.availableParallelism()));
  let next = 0;
  const lane = async () => {
    while (next < order.length) {
      const f = order[next++]!;
      results.set(f, await runOne(compiler, f, opts));
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
  return { modules: files.map((f) => results.get(f)!) };
}

function runOne(compiler: ModuleCompiler, file: string, opts: RunOptions): Promise<ModuleRun> {
  const run: ModuleRun = { file, tests: [], errors: [], durationMs: 0 };
  let bundle;
  try {
    bundle = compiler.bundle(file);
  } catch (e) {
    if (!(e instanceof ModuleError)) throw e;
    run.errors.push({ message: e.message, frame: { file: e.file, line: e.line, col: 1 } });
    return Promise.resolve(run);
  }
  const heartbeat = new SharedArrayBuffer(HEARTBEAT_BYTES);
  const input: WorkerInput = { bundle, heartbeat, only: opts.only ?? null, replayToken: opts.replayToken ?? null, unconfined: !!opts.unconfined, slowdown: opts.slowdown ?? 0 };
  const beat = new HeartbeatReader(heartbeat);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const worker = new Worker(workerFile(), { workerData: input, stdout: false, stderr: false });
    let block: { id: string; line: number } | null = null;
    let claim: { label: string; frame: Frame | null } | null = null;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearInterval(watch);
      run.durationMs = performance.now() - t0;
      resolve(run);
    };
    const stop = (why: string, message: string) => {
      if (settled) return;
      run.interrupted = why;
      const at = claim?.frame ?? (block ? { file, line: block.line, col: 1 } : null);
      if (block) run.tests.push({ name: block.id, state: "failed", durationMs: performance.now() - t0, error: { message, frame: at }, meta: { blockId: block.id, line: block.line, records: [] } });
      else run.errors.push({ message, frame: at });
      void worker.terminate();
      finish();
    };
    worker.on("message", (m: WorkerMessage) => {
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
        case "load-error": run.errors.push({ message: m.message, frame: m.frame }); break;
        case "crash": run.interrupted = "crash"; run.errors.push({ message: `the chapter's worker crashed: ${m.message}`, frame: null }); break;
        case "done": finish(); void worker.terminate(); break;
      }
    });
    worker.on("error", (e) => {
      if (settled) return;
      run.interrupted = "crash";
      run.errors.push({ message: `the chapter's worker crashed: ${e.message}`, frame: block ? { file, line: block.line, col: 1 } : null });
      finish();
    });
    worker.on("exit", () => {
      if (settled) return;
      run.interrupted = "crash";
      run.errors.push({ message: "the chapter's worker exited before it finished (out of memory?)", frame: block ? { file, line: block.line, col: 1 } : null });
      finish();
    });
    // The watchdog: polls the heartbeat; it never decides a verdict, it only stops a worker.
    let last = beat.beats, lastChange = performance.now();
    const watch = setInterval(() => {
      const now = performance.now();
      const b = beat.beats;
      if (b !== last) { last = b; lastChange = now; }
      if (now - lastChange >= STALL_S * 1000) {
        const thread = beat.thread();
        const what = claim ? `claim ${claim.label}: ` : "";
        stop("stall", thread !== null
          ? `${what}thread "${thread}" did not reach its next step within ${STALL_S} s (an infinite loop between two steps?); the chapter's worker was stopped`
          : `${what}the chapter made no progress for ${STALL_S} s outside any simulated thread (an infinite loop in the block's own code?); the chapter's worker was stopped`);
      } else if (now - t0 >= CHAPTER_LIMIT_S * 1000) {
        stop("limit", `stopped after ${CHAPTER_LIMIT_S} s: the machine was too slow to finish; this says nothing about the claim (raise BOOK_CHAPTER_LIMIT_S, or run again on an idle machine)`);
      }
    }, 250);
  });
}

const rel = (f: Frame) => `${path.relative(process.cwd(), f.file).split(path.sep).join("/")}:${f.line}:${f.col}`;
