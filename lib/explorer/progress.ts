// Progress reporting hook. The explorer core is Node-free, so it only calls an
// injectable callback; lib/explorer/node.ts supplies one that prints to a TTY stderr.

export interface Progress {
  readonly claim: string;
  readonly executions: number;
  /** Executions per second so far. */
  readonly rate: number;
  /** Steps of the latest execution (a proxy for search depth). */
  readonly depth: number;
  readonly ms: number;
  /** Set on the last call of a search that reported progress (clear the line). */
  readonly done?: boolean;
}

export type ProgressFn = (p: Progress) => void;

/** Searches report at most this often, and only once they have run this long. */
export const PROGRESS_AFTER_MS = 2_000;
export const PROGRESS_EVERY_MS = 1_000;

let progressFn: ProgressFn | null = null;
let progressClock: (() => number) | null = null;

/** `clock` replaces the real clock for pacing (tests: progress must not depend on the machine's speed). */
export function setProgress(fn: ProgressFn | null, clock: (() => number) | null = null): void {
  progressFn = fn;
  progressClock = clock;
}
export function getProgressClock(): (() => number) | null {
  return progressClock;
}
export function getProgress(): ProgressFn | null {
  return progressFn;
}

/**
 * Liveness hook for a supervisor (the book's watchdog, build/src/sandbox/): told at every step
 * which thread runs, and which threads an execution has, so that a thread that loops between two
 * steps can be named after its worker is stopped. Must be cheap; it never affects the search.
 */
export interface Heartbeat {
  step(thread: number): void;
  threads(names: readonly string[]): void;
  outsideExecution(): void;
  /** A claim's search starts (its id, or its title when it has none). */
  claim(label: string): void;
}

let heartbeat: Heartbeat | null = null;

export function setHeartbeat(h: Heartbeat | null): void {
  heartbeat = h;
}
export function getHeartbeat(): Heartbeat | null {
  return heartbeat;
}
