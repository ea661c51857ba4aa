// The running execution, as seen from model code. Model objects and helpers
// (finding(), currentThread(), spawn()) reach the execution through this one
// module-level slot instead of threading a context argument through every call:
// executions are synchronous and never overlap, so a single slot is enough.

import { ExplorerError } from "./errors.ts";
import type { Op, ThreadBody, Tracked } from "./effect.ts";

export interface FindingOptions {
  /** End the execution after the current step (default false: mark and continue). */
  readonly end?: boolean;
}

export interface Runtime {
  registerObject(o: Tracked): number;
  /** Index of the thread whose code is running (or whose op is being performed). */
  currentThread(): number;
  threadName(t: number): string;
  /** Mutable list of lock names held by thread t (for traces and lockdep-style reports). */
  held(t: number): string[];
  /** Call-frame labels of thread t (see call()). */
  frames(t: number): string[];
  report(kind: string, message: string, data: unknown, opts: FindingOptions): void;
  spawn(name: string, body: ThreadBody): number;
  /** Attach a state-change note to the current step's trace line (ignored while searching). */
  note(text: string): void;
  /** Register a state snapshot function for replays that record states (state.ts). */
  addView?(fn: () => unknown): void;
  /** The op whose run() or enabled() is executing, or null while a thread's own code runs
   *  between two steps (footprint.ts). Meaningless while currentThread() is -1 (setup, final). */
  inOp?(): Op | null;
  /** Does this execution use field footprints (Op.record)? Models install recorders only then. */
  fieldFootprints?(): boolean;
  /** The finding kinds the claims of the search read, or null for all (subscriptions.ts). */
  reads?(): ReadonlySet<string> | null;
}

let current: Runtime | null = null;

export function setRuntime(r: Runtime | null): Runtime | null {
  const prev = current;
  current = r;
  return prev;
}

export function runtime(what: string): Runtime {
  if (current === null)
    throw new ExplorerError(
      `${what} was used outside a running model. Create shared objects and call explorer helpers only inside ` +
        `the model's setup function or its threads, so every execution starts from fresh state.`,
    );
  return current;
}

/** The running execution or null, for hot paths that build runtime()'s message only on failure. */
export function currentRuntime(): Runtime | null {
  return current;
}

export function hasRuntime(): boolean {
  return current !== null;
}
