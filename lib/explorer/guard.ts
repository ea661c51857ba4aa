// Determinism guard. Stateless search re-runs the model from scratch for every
// execution and replay tokens re-run it once more; both are only correct if model
// code is a pure function of the schedule and choose() values. So while model code
// runs we replace the usual sources of hidden nondeterminism with throwing stubs and
// restore the originals afterwards (install/uninstall nest via a depth counter).

import { DeterminismError } from "./errors.ts";

/**
 * The global whose Date, timers and Promise the guard replaces: this realm's, or the one the
 * book's runtime names for each unit (the unit's Compartment, where the chapter's model code looks
 * them up; lib/ is linked in a Compartment of its own: build/src/sandbox/worker.ts).
 */
let g = globalThis as unknown as Record<string, unknown>;
const RealDate = Date;
const realNow = Date.now;
const realRandom = Math.random;
const names = Object.freeze(["setTimeout", "setInterval", "setImmediate", "queueMicrotask", "Promise"] as const);
const saved: Record<string, unknown> = {};
let depth = 0;

/**
 * Wall-clock milliseconds, usable by the explorer itself even while the guard is on, for stats
 * and progress lines only. Inside the book's sandbox (a SES Compartment) there is no clock at
 * all: this reads 0 there, and the build times claims from outside (build/src/sandbox/worker.ts).
 */
const hasClock: boolean = (() => {
  try {
    realNow.call(RealDate);
    return true;
  } catch {
    return false;
  }
})();
export const clockMs: () => number = hasClock ? () => realNow.call(RealDate) : () => 0;

function where(): string {
  const stack = new Error().stack?.split("\n") ?? [];
  // Skip "Error", this function, the stub; the first frame outside guard.ts is the caller.
  const frame = stack.slice(1).find((l) => !l.includes("guard.ts") && !l.includes("guard.js"));
  return frame ? frame.trim().replace(/^at /, "") : "(unknown location)";
}

function refuse(call: string, instead: string): never {
  throw new DeterminismError(
    `${call} was called inside model code at ${where()}. Model code must be deterministic so that ` +
      `every execution and every replay token reproduces exactly. ${instead}`,
  );
}

const USE_CHOOSE = "Use `yield* choose(label, alternatives)` to let the explorer try every outcome.";

function GuardedDate(this: unknown, ...args: unknown[]): unknown {
  if (args.length === 0) refuse("new Date()", "Pass a fixed time or model time as an explicit SharedVar.");
  if (!new.target) refuse("Date()", "Pass a fixed time instead.");
  return new (RealDate as unknown as new (...a: unknown[]) => Date)(...args);
}
GuardedDate.prototype = RealDate.prototype;
Object.assign(GuardedDate, { UTC: RealDate.UTC, parse: RealDate.parse, now: () => refuse("Date.now()", "Model time must be explicit state, e.g. a SharedVar counter.") });

const stubs: Record<string, unknown> = {
  setTimeout: () => refuse("setTimeout()", "Threads are generators; express waiting with a WaitQueue/Completion or `choose()`."),
  setInterval: () => refuse("setInterval()", "Express repetition as a loop in a thread."),
  setImmediate: () => refuse("setImmediate()", "Express deferred work as another thread (spawn)."),
  queueMicrotask: () => refuse("queueMicrotask()", "Express deferred work as another thread (spawn)."),
  Promise: new Proxy(Promise, {
    construct: () => refuse("new Promise()", "Threads are generators, not async functions; yield effects instead."),
    get: (t, p) => (p === "prototype" ? t.prototype : refuse(`Promise.${String(p)}`, "Threads are generators, not async functions; yield effects instead.")),
  }),
};

// Under SES (the book's chapter sandbox, build/src/sandbox/) Math is frozen and its random()
// already throws; Date and the timers are globals of the compartment and can still be replaced.
const mathFrozen = (): boolean => Object.isFrozen(Math);

// Module-level: installGuard runs once per execution, and a function literal assigned straight to
// a property would be allocated in the old generation each time (lib/kernel/README.md).
const guardedRandom = (): number => refuse("Math.random()", USE_CHOOSE);

export function installGuard(): void {
  if (depth++ > 0) return;
  for (const n of names) saved[n] = g[n];
  if (!mathFrozen()) Math.random = guardedRandom;
  g.Date = GuardedDate;
  for (const n of names) if (saved[n] !== undefined) g[n] = stubs[n];
}

export function uninstallGuard(): void {
  if (--depth > 0) return;
  if (!mathFrozen()) Math.random = realRandom;
  g.Date = RealDate;
  for (const n of names) if (saved[n] !== undefined) g[n] = saved[n];
}

/**
 * Lift the guard however deeply it is installed (a unit that left it on: a chapter may call
 * installGuard() itself), then guard `target` from now on. The book's runtime calls it when each
 * unit loads (lib/explorer/ambient.ts).
 */
export function setGuardGlobal(target: object): void {
  if (depth > 0) {
    depth = 1;
    uninstallGuard();
  }
  g = target as Record<string, unknown>;
}

/** Run fn with the guard installed. */
export function guarded<T>(fn: () => T): T {
  installGuard();
  try {
    return fn();
  } finally {
    uninstallGuard();
  }
}

/** Run fn with the guard lifted, however deeply it is installed (the explorer's own output). */
export function unguarded<T>(fn: () => T): T {
  if (depth === 0) return fn();
  const d = depth;
  depth = 1;
  uninstallGuard();
  try {
    return fn();
  } finally {
    installGuard();
    depth = d;
  }
}
