// Low-level building blocks for instrumented objects. SharedVar, Mutex etc. are
// built from these; the kernel model builds pages, page tables and notifiers the same way.

import type { ChooseRequest, Mode, Op, ThreadBody, Touch, Tracked, Yieldable } from "./effect.ts";
import { currentRuntime, runtime, type FindingOptions } from "./context.ts";
import { ExplorerError } from "./errors.ts";

/** Options for one access of an Obj. */
export interface AccessOptions<T> {
  /** Trace label; default `kind(name)`, e.g. "read(x)". */
  readonly label?: string;
  /** Blocking condition, evaluated on shared state. */
  readonly enabled?: () => boolean;
  /** The atomic effect; its result is the value of the `yield*`. */
  readonly run?: () => T;
  /** More objects this one atomic step touches (a multi-object step; see Op.also). */
  readonly also?: readonly Touch[];
  /** Field footprints: run() touches only state this object's recorder covers (Op.split). */
  readonly split?: boolean;
  /** A blocking read whose condition, once true, stays true, and whose run reads nothing shared (Op.latch). */
  readonly latch?: boolean;
}

/**
 * Base class for instrumented shared objects. Subclasses expose generator methods
 * that call `this.access(...)`; authors then write `yield* obj.method()` and never
 * hand-write footprints.
 */
export class Obj implements Tracked {
  // `declare`d and assigned, not class fields: every subclass runs this constructor, and a field
  // definition site that sees objects of many shapes (megamorphic) defines each field through the
  // runtime, where an assignment uses the store cache (10 % of a DPOR-vs-DFS property test).
  declare readonly type: string;
  declare readonly name: string;
  declare readonly id: number;
  constructor(type: string, name: string) {
    const self = this as { -readonly [K in "type" | "name" | "id"]: Obj[K] };
    self.type = type;
    self.name = name;
    self.id = (currentRuntime() ?? runtime(`new ${type}("${name}")`)).registerObject(this);
  }
  /** One scheduling point touching this object. mode "w" unless the op commutes with other reads. */
  protected *access<T>(kind: string, mode: Mode, opts: AccessOptions<T> = {}): Generator<Yieldable, T, unknown> {
    // No label string is built here: the hot path never needs it (see Execution.labelOf).
    const op: Op = { obj: this, kind, mode, label: opts.label, enabled: opts.enabled, run: opts.run, also: opts.also, split: opts.split, latch: opts.latch };
    return (yield op) as T;
  }
  holders?(): readonly number[];
}

/**
 * A scheduling point with an explicit effect, for objects that do not subclass Obj.
 * Without an effect it is a thread-local step that only shows up in traces (and is
 * a preemption point for the non-reducing strategies).
 */
export function* step<T = undefined>(
  label: string,
  effect?: { obj: Tracked; kind: string; mode: Mode; enabled?: () => boolean; run?: () => T; also?: readonly Touch[]; latch?: boolean },
): Generator<Yieldable, T, unknown> {
  const op: Op = effect
    ? { obj: effect.obj, kind: effect.kind, mode: effect.mode, label, enabled: effect.enabled, run: effect.run, also: effect.also, latch: effect.latch }
    : { obj: null, kind: "step", mode: "local", label, enabled: undefined, run: undefined, also: undefined };
  return (yield op) as T;
}

/** Nondeterministic choice among alternatives, explored like a scheduling decision. */
export function choose(label: string, arity: number): Generator<Yieldable, number, unknown>;
export function choose<T>(label: string, alternatives: readonly T[]): Generator<Yieldable, T, unknown>;
export function* choose<T>(label: string, alts: number | readonly T[]): Generator<Yieldable, number | T, unknown> {
  const arity = typeof alts === "number" ? alts : alts.length;
  if (!Number.isInteger(arity) || arity < 1)
    throw new ExplorerError(`choose("${label}") needs at least one alternative; pass a positive integer or a non-empty array.`);
  const req: ChooseRequest = { choose: true, label, arity };
  const i = (yield req) as number;
  return typeof alts === "number" ? i : alts[i];
}

/**
 * Report a finding from model code (e.g. "uaf", "sleep-in-atomic"). By default the
 * execution continues; pass { end: true } to stop it after the current step.
 */
export function finding(kind: string, message: string, data?: unknown, opts: FindingOptions = {}): void {
  (currentRuntime() ?? runtime(`finding("${kind}")`)).report(kind, message, data, opts);
}

/** Name of the running thread. */
export function currentThread(): string {
  const rt = runtime("currentThread()");
  return rt.threadName(rt.currentThread());
}

/** Locks held by the running thread (names, acquisition order). A copy. */
export function locksHeld(): string[] {
  const rt = runtime("locksHeld()");
  return [...rt.held(rt.currentThread())];
}

/** Record that the running thread now holds / released a lock-like object (for custom locks). */
export function noteAcquired(name: string): void {
  const rt = runtime("noteAcquired()");
  rt.held(rt.currentThread()).push(name);
}
export function noteReleased(name: string): void {
  const rt = runtime("noteReleased()");
  const h = rt.held(rt.currentThread());
  const i = h.lastIndexOf(name);
  if (i === h.length - 1) h.pop(); // the common, nested case: no splice, which allocates
  else if (i >= 0) h.splice(i, 1);
}

/** Attach a state-change note to the current trace line (e.g. "page 3 freed"). */
export function note(text: string): void {
  runtime("note()").note(text);
}

/**
 * Run `body` as a named frame: steps inside are labelled `name › label` in traces.
 * Use kernel function names: `yield* call("unmap_vmas", () => unmap_vmas_body(k, mm))`, the body a
 * module-level `function*` or a generator method (not a `function*` made in the caller).
 */
export function* call<T>(name: string, body: () => Generator<Yieldable, T, unknown>): Generator<Yieldable, T, unknown> {
  const rt = currentRuntime() ?? runtime(`call("${name}")`);
  const frames = rt.frames(rt.currentThread());
  frames.push(name);
  try {
    return yield* body();
  } finally {
    frames.pop();
  }
}

/** Start a new thread running `body`; returns once the thread exists (a local step). */
export function* spawn(name: string, body: ThreadBody): Generator<Yieldable, void, unknown> {
  const op: Op = { obj: null, kind: "spawn", mode: "local", label: `spawn(${name})`, enabled: undefined, run: () => runtime("spawn()").spawn(name, body), also: undefined };
  yield op;
}
