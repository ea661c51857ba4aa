// The machine's state at every step of one execution, for a witness's state panel in the book.
//
// The explorer knows nothing of what a model's state means: a model (or its setup code, through
// stateView()) supplies a snapshot function returning a StateView, groups of objects of fields
// ("mm0 page table" → "vpn 2" → { pfn: "5", flags: "present write" }). The explorer adds one
// group of its own, "threads": what each thread holds, runs next and waits for.
//
// recordStates() replays a token and takes a snapshot before the first step and after every
// step. It runs only when the book replays a witness, never while searching; it never changes
// the execution (it wraps the replay scheduler and only reads). encodeStates() stores the first
// snapshot in full and then, per step, only the cells that changed.

import { currentRuntime } from "./context.ts";
import { DEFAULT_MAX_STEPS } from "./config.ts";
import { Execution, type Scheduler } from "./execution.ts";
import type { Model } from "./model.ts";
import { DecisionScheduler } from "./replay.ts";
import { decodeToken } from "./token.ts";

/** Groups → objects → fields. Group, object and field names are shown as they are. */
export type StateView = Record<string, Record<string, Record<string, string>>>;

/** One change of a cell: [group, object, field, new value, or null when the cell went away]. */
export type StateChange = [string, string, string, string | null];

/** Snapshots of one execution: states[0] before step 0, states[i + 1] after step i. */
export interface EncodedStates {
  readonly format: "states@1";
  readonly token: string;
  /** Steps of the execution; there are steps + 1 states. */
  readonly steps: number;
  readonly initial: StateView;
  /** changes[i] turns state i into state i + 1. */
  readonly changes: StateChange[][];
}

/**
 * Register a snapshot function for the running execution (call it in a model's setup). Outside
 * an execution, or in an engine that records no states, it does nothing; it costs one push.
 */
export function stateView(fn: () => StateView): void {
  currentRuntime()?.addView?.(fn);
}

/** Threads as the explorer sees them: held locks, next step, and what a blocked one waits for. */
function threadsOf(x: Execution): Record<string, Record<string, string>> {
  // Keyed by names a chapter chose: a record with no prototype, so that a thread named
  // "constructor" is a key like any other (the sandbox's lockdown makes Object.prototype's
  // properties read-only, and an assignment that would shadow one throws).
  const out: Record<string, Record<string, string>> = Object.create(null) as Record<string, Record<string, string>>;
  for (const th of x.threads) {
    const p = th.pending;
    const blocked = !!p && p.enabled !== undefined && !p.enabled();
    out[th.name] = {
      state: th.done ? "done" : blocked ? "blocked" : "runnable",
      "waits for": blocked ? (p!.obj?.name ?? "?") : "",
      holds: th.held.join(", "),
      next: th.done ? "" : th.pendingLabel,
    };
  }
  return out;
}

function snapshot(x: Execution): StateView {
  const out: StateView = Object.create(null) as StateView; // keyed by chapters' group names
  for (const fn of x.viewFns) {
    const v = fn() as StateView;
    for (const [g, objs] of Object.entries(v ?? {})) {
      let name = g;
      for (let n = 2; name in out; n++) name = `${g} (${n})`;
      out[name] = objs;
    }
  }
  out["threads"] = threadsOf(x);
  return dropEmpty(out);
}

/** Without empty objects and groups, so that a state survives encodeStates/decodeStates exactly. */
function dropEmpty(s: StateView): StateView {
  const out: StateView = Object.create(null) as StateView;
  for (const [g, objs] of Object.entries(s)) {
    const kept: Record<string, Record<string, string>> = Object.create(null) as Record<string, Record<string, string>>;
    for (const [o, fields] of Object.entries(objs ?? {})) if (fields && Object.keys(fields).length > 0) kept[o] = { ...fields };
    if (Object.keys(kept).length > 0) out[g] = kept;
  }
  return out;
}

/** Takes a snapshot before each step the inner scheduler picks (the state after the last). */
class Recorder implements Scheduler {
  readonly states: StateView[] = [];
  constructor(private readonly inner: DecisionScheduler, private readonly maxStates: number) {}
  pickThread(x: Execution, enabled: number): number {
    // Past maxStates the replay ends: the recording is dropped anyway (recordStates).
    if (x.steps > this.maxStates) return -1;
    if (x.viewFns.length > 0) this.states[x.steps] = snapshot(x);
    return this.inner.pickThread(x, enabled);
  }
  pickChoice(x: Execution, arity: number, label: string): number {
    return this.inner.pickChoice(x, arity, label);
  }
}

/**
 * Replay `token` and snapshot the state before step 0 and after every step. null when the model
 * has no view, or the execution is longer than `maxStates` steps (a panel nobody would step through).
 */
export function recordStates(model: Model<unknown>, token: string, opts: { maxSteps?: number; maxStates?: number } = {}): EncodedStates | null {
  const maxStates = opts.maxStates ?? 2000;
  const rec = new Recorder(new DecisionScheduler(decodeToken(token)), maxStates);
  const x = new Execution(model, rec, opts.maxSteps ?? DEFAULT_MAX_STEPS, true).run();
  if (x.viewFns.length === 0 || x.status === "pruned" || x.steps > maxStates) return null;
  rec.states[x.steps] = snapshot(x);
  return encodeStates(token, rec.states);
}

/** First state in full, then per step the cells that changed. */
export function encodeStates(token: string, states: readonly StateView[]): EncodedStates {
  const changes: StateChange[][] = [];
  for (let i = 1; i < states.length; i++) changes.push(diffStates(states[i - 1]!, states[i]!));
  return { format: "states@1", token, steps: states.length - 1, initial: states[0] ?? {}, changes };
}

export function diffStates(a: StateView, b: StateView): StateChange[] {
  const out: StateChange[] = [];
  for (const [g, objs] of Object.entries(b)) {
    const ga = a[g] ?? {};
    for (const [o, fields] of Object.entries(objs)) {
      const oa = ga[o] ?? {};
      for (const [f, v] of Object.entries(fields)) if (oa[f] !== v) out.push([g, o, f, v]);
      for (const f of Object.keys(oa)) if (!(f in fields)) out.push([g, o, f, null]);
    }
    for (const [o, fields] of Object.entries(ga)) if (!(o in objs)) for (const f of Object.keys(fields)) out.push([g, o, f, null]);
  }
  for (const [g, objs] of Object.entries(a)) if (!(g in b)) for (const [o, fields] of Object.entries(objs)) for (const f of Object.keys(fields)) out.push([g, o, f, null]);
  return out;
}

/** Apply one step's changes (a copy; objects and groups with no field left disappear). */
export function applyChanges(s: StateView, changes: readonly StateChange[]): StateView {
  const out: StateView = {};
  for (const [g, objs] of Object.entries(s)) {
    out[g] = {};
    for (const [o, fields] of Object.entries(objs)) out[g]![o] = { ...fields };
  }
  for (const [g, o, f, v] of changes) {
    if (v === null) {
      const obj = out[g]?.[o];
      if (!obj) continue;
      delete obj[f];
      if (Object.keys(obj).length === 0) delete out[g]![o];
      if (Object.keys(out[g]!).length === 0) delete out[g];
    } else ((out[g] ??= {})[o] ??= {})[f] = v;
  }
  return out;
}

/** Every state of an encoding, in order. */
export function decodeStates(e: EncodedStates): StateView[] {
  const out = [e.initial];
  for (const c of e.changes) out.push(applyChanges(out[out.length - 1]!, c));
  return out;
}
