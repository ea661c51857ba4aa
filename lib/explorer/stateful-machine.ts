// Cheap backtracking for the stateful strategy (search: { strategy: "stateful", snapshots: true }).
//
// Replaying from the root for every transition costs the depth of the state. Instead, one live
// model instance moves from state to state: each state keeps a snapshot of every object
// (snapshot()/restore()) and of each thread's bookkeeping (pending op, held locks, frames, how
// many values were returned into it). Generators cannot be copied, so going back to a state
// re-creates only the generators that moved since, by feeding them their recorded observations
// (no object step runs while a generator is fed; findings reported meanwhile are ignored).
//
// Sound only when the model keeps all shared state in its objects: thread code that mutates
// plain JS state shared with other threads (a closure, a global) is not restored, and thread code
// that reads shared state between steps (peek()) would be fed a different world. Both are
// outside the explorer's contract anyway; a thread that does not come back to the op it was at
// is refused. Objects must all be created in setup. Terminal states are replayed from the root
// by a real Execution, so what the predicate sees is exactly what the other strategies see.

import { type Op, type ThreadBody, type Tracked, type Yieldable, enabledMaskOf, isChoose } from "./effect.ts";
import { setRuntime, type FindingOptions, type Runtime } from "./context.ts";
import { ExplorerError } from "./errors.ts";
import type { Finding } from "./finding.ts";
import type { Model } from "./model.ts";
import { keyOfValue, type Histories } from "./state-key.ts";

/** An object that can save and restore its whole state (what stateKey() describes). */
export interface Snapshottable {
  snapshot(): unknown;
  restore(s: unknown): void;
}

interface MThread {
  readonly name: string;
  readonly body: ThreadBody;
  gen: Generator<Yieldable, unknown, unknown>;
  pending: Op | null;
  done: boolean;
  held: string[];
  frames: string[];
  /** Interned history (state-key.ts) and the values themselves, to feed a re-created generator. */
  hist: number;
  readonly obs: unknown[];
}

interface ThreadSnap {
  readonly pending: Op | null;
  readonly done: boolean;
  readonly held: string[];
  readonly frames: string[];
  readonly hist: number;
  readonly obsLen: number;
}

export interface MachineSnap {
  readonly objs: unknown[];
  readonly threads: ThreadSnap[];
  readonly findings: number;
  readonly steps: number;
}

export class Machine implements Runtime {
  readonly threads: MThread[] = [];
  readonly objects: Tracked[] = [];
  readonly findings: Finding[] = [];
  decisions: number[] = [];
  final: (() => unknown) | undefined;
  steps = 0;
  stop = false;
  private cur = -1;
  private inSetup = true;
  private feeding = false;
  private script: readonly number[] = [];
  arities: number[] = [];

  constructor(
    private readonly model: Model<unknown>,
    private readonly histories: Histories,
  ) {}

  // ---- Runtime ----
  registerObject(o: Tracked): number {
    if (!this.inSetup)
      throw new ExplorerError(`Snapshot backtracking (search.snapshots) needs every object of model "${this.model.name}" to be created in setup, but ${o.type} "${o.name}" was created by a thread. Drop snapshots: true (replay from the root instead).`);
    const s = o as unknown as Partial<Snapshottable>;
    if (typeof s.snapshot !== "function" || typeof s.restore !== "function")
      throw new ExplorerError(`Snapshot backtracking (search.snapshots) needs snapshot() and restore() on every object of model "${this.model.name}", but ${o.type} "${o.name}" (class ${o.constructor.name}) has none. Add them, or drop snapshots: true.`);
    this.objects.push(o);
    return this.objects.length - 1;
  }
  currentThread(): number {
    return this.cur;
  }
  /** The op whose enabled() or run() is running (footprint.ts checks state access against it). Public for enabledMaskOf. */
  op: Op | null = null;
  inOp(): Op | null {
    return this.op;
  }
  threadName(t: number): string {
    return this.threads[t]?.name ?? "(setup)";
  }
  held(t: number): string[] {
    return this.threads[t]?.held ?? [];
  }
  frames(t: number): string[] {
    return this.threads[t]?.frames ?? [];
  }
  report(kind: string, message: string, data: unknown, opts: FindingOptions): void {
    if (this.feeding) return;
    this.findings.push({ kind, message, thread: this.cur >= 0 ? this.threadName(this.cur) : undefined, step: Math.max(0, this.steps - 1), data });
    if (opts.end) this.stop = true;
  }
  spawn(name: string, body: ThreadBody): number {
    return this.addThread(name, body);
  }
  note(): void {}

  // ---- driving ----
  private inside<T>(f: () => T): T {
    const prev = setRuntime(this);
    try {
      return f();
    } finally {
      setRuntime(prev);
      this.cur = -1;
    }
  }

  /** Build the initial state, taking choose() values from `script`. */
  start(script: readonly number[]): void {
    this.script = script;
    this.inside(() => {
      const inst = this.model.setup();
      this.final = inst.final;
      this.inSetup = false;
      for (const [name, body] of Object.entries(inst.threads)) this.addThread(name, body);
    });
  }

  private addThread(name: string, body: ThreadBody): number {
    const t = this.threads.length;
    this.threads.push({ name, body, gen: body(), pending: null, done: false, held: [], frames: [], hist: 0, obs: [] });
    const saved = this.cur;
    this.advance(t, undefined);
    this.cur = saved;
    return t;
  }

  private observe(th: MThread, v: unknown): void {
    th.obs.push(v);
    th.hist = this.histories.extend(th.hist, keyOfValue(v, () => `a value returned into thread "${th.name}" of model "${this.model.name}"`));
  }

  private advance(t: number, value: unknown): void {
    const th = this.threads[t];
    this.cur = t;
    for (;;) {
      const r = th.gen.next(value);
      if (r.done) {
        th.done = true;
        th.pending = null;
        return;
      }
      const y = r.value;
      if (isChoose(y)) {
        const j = this.arities.length;
        this.arities.push(y.arity);
        value = j < this.script.length ? this.script[j] : 0;
        this.decisions.push(value as number);
        this.observe(th, value);
        continue;
      }
      th.pending = y as Op;
      return;
    }
  }

  enabledMask(): number {
    // Inside the machine's runtime, like run(): an enabled() that reads guarded state is checked.
    return this.inside(() => enabledMaskOf(this));
  }

  /** The snapshot of the state the machine is in now, if it has not moved since taking it. */
  private at: MachineSnap | null = null;

  snapshot(): MachineSnap {
    return (this.at = {
      objs: this.objects.map((o) => (o as unknown as Snapshottable).snapshot()),
      threads: this.threads.map((th) => ({ pending: th.pending, done: th.done, held: th.held.slice(), frames: th.frames.slice(), hist: th.hist, obsLen: th.obs.length })),
      findings: this.findings.length,
      steps: this.steps,
    });
  }

  /** Back to a state on the current DFS path (or the state itself). */
  restore(s: MachineSnap, path: readonly number[]): void {
    // The first transition from a state just reached: nothing to undo.
    if (s === this.at) return;
    for (let i = 0; i < this.objects.length; i++) (this.objects[i] as unknown as Snapshottable).restore(s.objs[i]);
    this.threads.length = s.threads.length;
    this.findings.length = s.findings;
    this.steps = s.steps;
    this.stop = false;
    this.decisions = path.slice();
    for (let t = 0; t < s.threads.length; t++) {
      const th = this.threads[t], ts = s.threads[t];
      if (th.obs.length !== ts.obsLen || th.done !== ts.done) this.inside(() => this.refeed(t, ts));
      else th.pending = ts.pending;
      th.done = ts.done;
      // Usually unchanged since the snapshot: copy only what a step changed (fewer allocations).
      if (!sameList(th.held, ts.held)) th.held = ts.held.slice();
      if (!sameList(th.frames, ts.frames)) th.frames = ts.frames.slice();
      th.hist = ts.hist;
    }
    this.at = s;
  }

  /** Re-create thread t's generator and feed it its first obsLen observations. */
  private refeed(t: number, ts: ThreadSnap): void {
    const th = this.threads[t];
    th.obs.length = ts.obsLen;
    th.gen = th.body();
    th.held = [];
    th.frames = [];
    this.cur = t;
    this.feeding = true;
    try {
      let r = th.gen.next(undefined);
      for (let i = 0; i < ts.obsLen && !r.done; i++) r = th.gen.next(th.obs[i]);
      const op = r.done ? null : (r.value as Op);
      const same = op === null ? ts.pending === null : ts.pending !== null && !isChoose(op as Yieldable) && op.obj === ts.pending.obj && op.kind === ts.pending.kind;
      if (!same)
        throw new ExplorerError(
          `Snapshot backtracking (search.snapshots): thread "${th.name}" of model "${this.model.name}" did not come back to ${ts.pending ? `its ${ts.pending.kind} step` : "its end"} when fed its own history. ` +
            `Its code depends on state outside its steps (peek() between steps, or plain JS state shared with other threads). Drop snapshots: true.`,
        );
      th.pending = op;
    } finally {
      this.feeding = false;
    }
  }

  /** Run thread t's pending step and its code up to the next step, taking choose() values from `script`. */
  transition(t: number, script: readonly number[]): void {
    this.at = null;
    this.script = script;
    this.arities = [];
    this.decisions.push(t);
    this.inside(() => {
      const th = this.threads[t];
      const op = th.pending as Op;
      this.cur = t;
      this.steps++;
      this.op = op;
      const result = op.run ? op.run() : undefined;
      this.op = null;
      this.observe(th, result);
      this.advance(t, result);
    });
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
