// One execution of a model under a Scheduler. Strategies create one Execution per
// explored schedule (stateless search: every execution re-runs setup from scratch).
//
// Hot path: per-step data is kept in flat number arrays (thread, object id, mode,
// enabled mask); trace events with labels and lock sets are only materialised when
// `detail` is on (replay of a witness).

import { type FieldRecorder, type Op, type ThreadBody, type Tracked, type Yieldable, enabledMaskOf, FIELD_MIN, footprintOf, isChoose, MODE_READ, MODE_UPDATE, MODE_WRITE, mergeModes, modeCode, NO_GUARD_STATE } from "./effect.ts";
import { setRuntime, type FindingOptions, type Runtime } from "./context.ts";
import { DeterminismError, ExplorerError, ModelError } from "./errors.ts";
import type { DeadlockData, Finding, WaitEdge } from "./finding.ts";
import { installGuard, uninstallGuard } from "./guard.ts";
import type { Model } from "./model.ts";
import { getHeartbeat } from "./progress.ts";
import { raceLog, type RaceLog, type StepInfo } from "./race-log.ts";
import { readsOfModel } from "./subscriptions.ts";
import { encodeToken } from "./token.ts";
import type { TraceEvent } from "./trace.ts";

/** Trace label of an op: its own label, or kind(object). Built only when tracing. */
export const labelOf = (op: Op): string => op.label ?? (op.obj ? `${op.kind}(${op.obj.name})` : op.kind);

/** Hard cap: enabled sets are 31-bit masks. */
export const MAX_THREADS = 31;

export interface Scheduler {
  /** Pick a thread among the set bits of `enabled` (never 0). Return -1 to abandon the execution. */
  pickThread(x: Execution, enabled: number): number;
  /** Pick a value in [0, arity). */
  pickChoice(x: Execution, arity: number, label: string): number;
  /** Field footprints (Op.record) in the executions this scheduler drives. */
  readonly fields?: boolean;
  /** Record each step's op and its object's guard state before it (Execution.stepOp). */
  readonly guardStates?: boolean;
}

/** Thrown (and caught in run()) when a scheduler abandons an execution inside a choose(). */
const ABANDON = Symbol("abandon");

export type Status = "running" | "finished" | "deadlock" | "stopped" | "step-bound" | "pruned";

interface ThreadState {
  readonly name: string;
  readonly gen: Generator<Yieldable, unknown, unknown>;
  /** Next op; null iff done. */
  pending: Op | null;
  done: boolean;
  readonly held: string[];
  readonly frames: string[];
  /** Label of pending op including frames (detail mode only). */
  pendingLabel: string;
  /** Thread index that spawned this one, -1 for model threads. */
  readonly parent: number;
  /** Step index of the spawn (clock inheritance for DPOR), -1 for model threads. */
  readonly spawnStep: number;
  /** Creation path (Nidhugg's CPid): a model thread's index, else its parent's path, ".", and the
   *  index of its spawn among the parent's spawns. The same thread has the same path in every
   *  execution, while its index depends on the order of spawns in the schedule. */
  readonly path: string;
  /** Threads this one spawned so far (the next child's ordinal). */
  kids: number;
  /** Objects this thread created so far (the next object's ordinal). */
  made: number;
}

/**
 * Field footprints: op is a step declared "r" on an object whose recorder has anyWrite, not split,
 * without a blocking condition or another recorded object in `also`. It is recorded only to see
 * that it writes no recorded field; then it reads all of the object (Execution.readAllFoot), else
 * it writes all of it. Like a split step, what it touches is known only once it ran.
 */
export function readsAll(op: Op): boolean {
  const rec = op.obj === null ? undefined : op.obj.fields;
  return rec != null && rec.anyWrite !== undefined && op.split !== true && op.mode === "r" && recordable(op);
}

/** Field footprints: op has no blocking condition and no other recorded object in `also`, so its
 *  run() can be recorded (a split step, or a declared read). */
function recordable(op: Op): boolean {
  return op.enabled === undefined && (op.also === undefined || op.also.every((a) => a.obj.fields == null));
}

/** Does a record (flat [field, mode, ...]) write or update some field? */
function writesAField(acc: readonly number[]): boolean {
  for (let i = 1; i < acc.length; i += 2) if (acc[i] !== MODE_READ) return true;
  return false;
}

/** Deliberate mutations, for the soundness tests' tests of themselves only
 *  (test/explorer/field-foot-reads.test.ts): a split write that does not update anyWrite, a
 *  declared read whose record shows a write still reading all of its object, and a sleeper that
 *  ran as a whole-object write not re-opened when a field write wakes it (dpor.ts wholeWriteWoken),
 *  and one anyWrite pseudo-object for two recorded objects that name the same number. */
export const fieldMutations = { noAnyWriteUpdate: false, trustWritingReads: false, noWholeWriteWake: false, sharedAnyWrite: false };

/** Field footprints: op's `also` objects into a recorded step's footprint `f` (per-execution ids)
 *  and its canonical form `c`, after index `from` (the object and its fields); an object named
 *  twice appears once, with the stronger mode (as footprintOf). */
function addAlso(op: Op, f: number[], c: number[], from: number): void {
  if (op.also === undefined) return;
  for (const t of op.also) {
    const id = t.obj.id, m = modeCode(t.mode);
    let i = from;
    while (i < f.length && f[i] !== id) i += 2;
    if (i < f.length) f[i + 1] = c[i + 1] = mergeModes(f[i + 1], m);
    else f.push(id, m), c.push(id, m);
  }
}

/** Step k's footprint with fields under their cross-execution numbers, from an execution's step
 *  arrays (Execution.canonOf; dpor.ts keeps the arrays of the last execution without the rest). */
export function canonAt(x: Pick<Execution, "stepCanon" | "stepFoot" | "stepObj" | "stepMode">, k: number): readonly number[] {
  return x.stepCanon[k] ?? x.stepFoot[k] ?? [x.stepObj[k], x.stepMode[k]];
}

export class Execution implements Runtime {
  readonly threads: ThreadState[] = [];
  readonly objects: Tracked[] = [];
  readonly findings: Finding[] = [];
  status: Status = "running";
  /** Per step: thread, object id (-1 local), mode code, enabled mask before the step. */
  readonly stepThread: number[] = [];
  readonly stepObj: number[] = [];
  readonly stepMode: number[] = [];
  /** Per step: the footprint of a multi-object step (flat [obj, mode, ...] pairs, effect.ts), else null. */
  readonly stepFoot: (number[] | null)[] = [];
  /** Field footprints only: per step, its footprint with fields under their numbers that hold
   *  across executions (FieldRecorder), for sleep sets; null = as stepObj/stepMode/stepFoot. */
  readonly stepCanon: (number[] | null)[] = [];
  /** Field footprints: the steps whose recorder named fields they brought to a threshold
   *  (FieldRecorder.crossed: a count dropped to 1), by step index; null until the first (most
   *  executions have none). */
  stepCrossed: Map<number, readonly number[]> | null = null;
  /** Field footprints: is this execution using them (the scheduler's choice)? */
  readonly fields: boolean;
  /** Field footprints: field number -> its object id in this execution (registered on first touch). */
  private readonly fieldIds = new Map<number, number>();
  /** Field footprints: a recorded object's id -> the id of its anyWrite pseudo-field (dpor.ts analyse). */
  readonly anyWriteOf = new Map<number, number>();
  /** Per object id: the thread that created it after the first step, with its ordinal among that
   *  thread's objects (objMade); -1 for an object made before any step (setup, or a thread's code
   *  before its first op), whose id is the same in every execution. See objectPath(). */
  readonly objMaker: number[] = [];
  readonly objMade: number[] = [];
  /** Per step: the op had an enabled() condition (could have blocked). */
  readonly stepBlocking: boolean[] = [];
  /** The steps that ran a latch (Op.latch), in order: dpor.ts orders each after its enabler only. */
  readonly latchSteps: number[] = [];
  /** Threads whose pending op is a latch (checked after every step: none found enabled may be disabled). */
  private latchMask = 0;
  /** When the scheduler asks (Scheduler.guardStates; DPOR's probes, dpor.ts): per step, its op,
   *  and its object's guard state just before it ran (Tracked.guardState), NO_GUARD_STATE for an
   *  object without one. null otherwise: a guard state is taken at every step, and only DPOR's
   *  own executions can use it. */
  readonly stepOp: Op[] | null;
  readonly stepGuardState: unknown[] | null;
  /** Per step, what the race log keeps (race-log.ts); null unless DPOR_RACE_LOG is on. */
  readonly stepInfo: StepInfo[] | null = raceLog === null ? null : [];
  readonly enabledBefore: number[] = [];
  /** Every decision in order (thread picks and choose() values), and whether it was the default. */
  readonly decisions: number[] = [];
  readonly isDefault: boolean[] = [];
  /** Preemptions so far: switches away from a thread that could have continued. */
  preemptions = 0;
  final: unknown = undefined;
  trace: TraceEvent[] = [];
  /** When status is "step-bound": the thread that ran the last step, and the op it waits at. */
  cutAt: { thread: string; label: string } | undefined;
  /** Threads not yet finished. Invariant: live === threads.filter(t => !t.done).length. */
  private live = 0;
  private cur = -1;
  /** The op whose run() or enabled() is executing (footprint.ts); null in a thread's own code. Public for enabledMaskOf. */
  op: Op | null = null;
  private last = -1;
  private stopAfterStep = false;
  private pendingNote: string[] = [];
  private finalFn: (() => unknown) | undefined;
  /** State snapshot functions (the model's view() and any stateView() made in setup); only
   *  replays that record states (state.ts) call them. */
  readonly viewFns: (() => unknown)[] = [];
  private readonly hb = getHeartbeat();
  /** Thread names in index order, for the heartbeat only (kept in step with `threads`). */
  private readonly threadNames: string[] = [];
  /** Optional: sees every value returned into a thread's generator (op results, choose() values);
   *  the stateful strategy keys a thread's local state by them (stateful.ts). */
  observe: ((t: number, v: unknown) => void) | undefined = undefined;
  /** Optional: sees every op just before it runs (its objects still in their state before the
   *  step); the stateful strategy adds what the step could read to the thread's history. */
  observeStep: ((t: number, op: Op) => void) | undefined = undefined;

  constructor(
    readonly model: Model<unknown>,
    readonly scheduler: Scheduler,
    readonly maxSteps: number,
    readonly detail = false,
  ) {
    this.fields = scheduler.fields === true;
    this.stepOp = scheduler.guardStates === true ? [] : null;
    this.stepGuardState = this.stepOp === null ? null : [];
  }

  get steps(): number {
    return this.stepThread.length;
  }

  // ---- Runtime (called from model code) ----
  registerObject(o: Tracked): number {
    this.objects.push(o);
    const th = this.steps > 0 ? this.threads[this.cur] : undefined;
    this.objMaker.push(th ? this.cur : -1);
    this.objMade.push(th ? th.made++ : 0);
    return this.objects.length - 1;
  }
  /** A name of object o that holds across executions (optimal DPOR's wakeup sequences): null when
   *  its id already does (made before the first step), else its maker's path and ordinal. */
  objectPath(o: number): string | null {
    const t = this.objMaker[o];
    return t === undefined || t < 0 ? null : `${this.threads[t].path}#${this.objMade[o]}`;
  }
  currentThread(): number {
    return this.cur;
  }
  inOp(): Op | null {
    return this.op;
  }
  fieldFootprints(): boolean {
    return this.fields;
  }
  reads(): ReadonlySet<string> | null {
    return readsOfModel(this.model);
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
    // Reported while step `steps - 1` runs (its op or the thread's code up to the next yield):
    // the same index its trace event and its note carry.
    this.findings.push({ kind, message, thread: this.cur >= 0 ? this.threadName(this.cur) : undefined, step: Math.max(0, this.steps - 1), data });
    if (opts.end) this.stopAfterStep = true;
    if (this.detail) this.pendingNote.push(`FINDING ${kind}: ${message}`);
  }
  spawn(name: string, body: ThreadBody): number {
    // The spawn step is the one being executed: index steps - 1.
    return this.addThread(name, body, this.cur, this.steps - 1);
  }
  note(text: string): void {
    if (this.detail) this.pendingNote.push(text);
  }
  addView(fn: () => unknown): void {
    this.viewFns.push(fn);
  }

  // ---- driving ----
  run(): this {
    const prev = setRuntime(this);
    installGuard();
    try {
      this.start();
      while (this.status === "running") this.tick();
      this.cur = -1;
      if (this.finalFn && this.status !== "pruned") this.final = this.finalFn();
    } catch (e) {
      if (e !== ABANDON) throw this.wrap(e);
      this.status = "pruned";
    } finally {
      uninstallGuard();
      setRuntime(prev);
      this.hb?.outsideExecution();
    }
    return this;
  }

  private start(): void {
    const inst = this.model.setup();
    if (!inst || typeof inst.threads !== "object")
      throw new ExplorerError(`Model "${this.model.name}" setup returned no threads; return { threads: { A: () => task() }, final } with a module-level function* task() {...}.`);
    this.finalFn = inst.final;
    if (inst.view) this.viewFns.push(inst.view);
    for (const [name, body] of Object.entries(inst.threads)) this.addThread(name, body, -1, -1);
    if (this.threads.length === 0) throw new ExplorerError(`Model "${this.model.name}" has no threads; add at least one generator function under threads.`);
  }

  private addThread(name: string, body: ThreadBody, parent: number, spawnStep: number): number {
    const t = this.threads.length;
    if (t >= MAX_THREADS) throw new ExplorerError(`Model "${this.model.name}" created more than ${MAX_THREADS} threads; the explorer supports at most ${MAX_THREADS}. Reduce the model.`);
    if (typeof body !== "function") throw new ExplorerError(`Thread "${name}" of model "${this.model.name}" is not a function that starts a generator; write ${name}: () => task() with a module-level function* task() { ... }.`);
    const gen = body();
    const path = parent < 0 ? String(t) : `${this.threads[parent].path}.${this.threads[parent].kids++}`;
    this.threads.push({ name, gen, pending: null, done: false, held: [], frames: [], pendingLabel: "", parent, spawnStep, path, kids: 0, made: 0 });
    if (this.hb) {
      this.threadNames.push(name);
      this.hb.threads(this.threadNames);
    }
    this.live++;
    const saved = this.cur;
    this.advance(t, undefined);
    this.cur = saved;
    return t;
  }

  /** Run thread t's own code up to its next op (resolving choose() requests on the way). */
  private advance(t: number, value: unknown): void {
    const th = this.threads[t];
    this.cur = t;
    this.hb?.step(t);
    for (;;) {
      const r = th.gen.next(value);
      if (r.done) {
        th.done = true;
        this.live--;
        th.pending = null;
        this.latchMask &= ~(1 << t);
        return;
      }
      const y = r.value;
      // Ops always have a string kind; anything else is a choose() request or a mistake.
      if (y !== null && typeof y === "object" && typeof (y as Op).kind === "string") {
        th.pending = y as Op;
        if ((y as Op).latch === true) {
          const op = y as Op;
          if (op.mode !== "r" || op.enabled === undefined || op.obj === null || op.also !== undefined)
            throw new ExplorerError(`Model "${this.model.name}": thread ${th.name}'s step "${op.label ?? op.kind}" is declared a latch but is not a blocking read of one object (mode "r", an enabled() condition, no also). A latch only waits (lib/explorer/effect.ts Op.latch).`);
          this.latchMask |= 1 << t;
        } else this.latchMask &= ~(1 << t);
        if (this.detail) th.pendingLabel = th.frames.length ? `${th.frames.join(" › ")} › ${labelOf(th.pending)}` : labelOf(th.pending);
        return;
      }
      if (y !== null && typeof y === "object" && isChoose(y)) {
        const v = this.scheduler.pickChoice(this, y.arity, y.label);
        if (v === -1) throw ABANDON;
        if (!(v >= 0 && v < y.arity)) throw new ExplorerError(`internal: scheduler chose ${v} outside [0, ${y.arity}) for choose("${y.label}").`);
        this.decisions.push(v);
        this.isDefault.push(v === 0);
        if (this.observe !== undefined) this.observe(t, v);
        if (this.detail) this.trace.push({ step: this.steps, thread: th.name, label: `choose(${y.label})`, obj: "", kind: "choose", held: [...th.held], note: `= ${v}`, value: v });
        value = v;
        continue;
      }
      throw new ExplorerError(`Thread "${th.name}" yielded ${String(y)}, which is not an effect. Use yield* on explorer objects (yield* x.read()), not bare yield.`);
    }
  }

  enabledMask(): number {
    return enabledMaskOf(this);
  }

  /** The thread the default policy runs: the last one if it can continue, else the lowest enabled. */
  defaultThread(enabled: number): number {
    if (this.last >= 0 && enabled & (1 << this.last)) return this.last;
    return 31 - Math.clz32(enabled & -enabled);
  }

  get lastThread(): number {
    return this.last;
  }

  private tick(): void {
    if (this.live === 0) {
      this.status = "finished";
      return;
    }
    const enabled = this.enabledMask();
    if (this.lastUpdates !== null) this.checkUpdateDisables(enabled);
    if (this.latchMask !== 0 && this.stepThread.length > 0) this.checkLatches(enabled);
    if (enabled === 0) {
      this.status = "deadlock";
      this.reportDeadlock();
      return;
    }
    if (this.steps >= this.maxSteps) {
      this.status = "step-bound";
      const th = this.threads[this.last];
      this.cutAt = { thread: th ? th.name : "(setup)", label: th?.pending ? `${th.frames.length ? th.frames.join(" › ") + " › " : ""}${labelOf(th.pending)}` : "(finished)" };
      this.findings.push({ kind: "livelock", message: `execution exceeded ${this.maxSteps} steps; a thread probably spins forever (raise search.maxSteps if the model legitimately needs more)`, step: this.steps });
      return;
    }
    const t = this.scheduler.pickThread(this, enabled);
    if (t < 0) {
      this.status = "pruned";
      return;
    }
    if (!(enabled & (1 << t))) throw new ExplorerError(`internal: scheduler picked disabled thread ${t}.`);
    const def = this.defaultThread(enabled);
    this.decisions.push(t);
    this.isDefault.push(t === def);
    if (this.last >= 0 && t !== this.last && enabled & (1 << this.last)) this.preemptions++;
    this.exec(t, enabled);
    if (this.stopAfterStep) this.status = "stopped";
  }

  /** The last step's op and the objects it only updated ("u"), or null (the common case: none). */
  private lastUpdates: { readonly op: Op; readonly objs: Tracked[] } | null = null;

  /**
   * Op.mode's rule: an update may enable a blocked op, never disable one. A thread enabled before
   * the last step and disabled after it, waiting on an object that step only updated, breaks it.
   */
  private checkUpdateDisables(enabled: number): void {
    const k = this.stepThread.length - 1, by = this.stepThread[k];
    const { op: last, objs: updated } = this.lastUpdates as { readonly op: Op; readonly objs: Tracked[] };
    this.lastUpdates = null;
    for (let off = this.enabledBefore[k] & ~enabled & ~(1 << by); off; off &= off - 1) {
      const q = 31 - Math.clz32(off & -off), op = this.threads[q].pending;
      if (op !== null && op.obj !== null && updated.includes(op.obj))
        throw new ExplorerError(`Model "${this.model.name}": ${this.threads[by].name}'s step "${last.label ?? last.kind}" is declared an update ("u") of ${op.obj.type} "${op.obj.name}" but disabled ${this.threads[q].name}'s blocked "${op.label ?? op.kind}" on it. An update may enable a blocked op, never disable one (lib/explorer/effect.ts Op.mode): declare that step a write ("w").`);
    }
  }

  /** Op.latch's promise: a latch that was enabled before the last step (of another thread) still is. */
  private checkLatches(enabled: number): void {
    const k = this.stepThread.length - 1, by = this.stepThread[k];
    const off = this.enabledBefore[k] & ~enabled & this.latchMask & ~(1 << by);
    if (off === 0) return;
    const q = 31 - Math.clz32(off & -off), op = this.threads[q].pending as Op, last = this.threads[by];
    throw new ExplorerError(`Model "${this.model.name}": ${this.threads[q].name}'s "${op.label ?? op.kind}" on ${op.obj?.type} "${op.obj?.name}" is declared a latch, but ${last.name}'s step ${k} disabled it after it was enabled. A latch's condition must stay true once true (lib/explorer/effect.ts Op.latch): make it a plain blocking read.`);
  }

  private exec(t: number, enabled: number): void {
    const th = this.threads[t];
    const op = th.pending as Op;
    if (op.latch === true) this.latchSteps.push(this.stepThread.length);
    const objs = updatedObjects(op);
    this.lastUpdates = objs === null ? null : { op, objs };
    this.stepThread.push(t);
    this.stepObj.push(op.obj ? op.obj.id : -1);
    this.stepMode.push(op.obj ? modeCode(op.mode) : 0);
    this.stepFoot.push(op.also === undefined ? null : footprintOf(op));
    if (this.fields) this.stepCanon.push(null);
    this.stepBlocking.push(op.enabled !== undefined);
    this.enabledBefore.push(enabled);
    this.last = t;
    this.cur = t;
    const traceAt = this.trace.length;
    if (this.detail) this.trace.push({ step: this.steps - 1, thread: th.name, label: th.pendingLabel, obj: op.obj ? op.obj.name : "", kind: op.kind, held: [], note: "" });
    this.op = op;
    if (this.stepOp !== null) {
      const o = op.obj;
      (this.stepGuardState as unknown[]).push(o !== null && o.guardState !== undefined ? o.guardState() : NO_GUARD_STATE);
      this.stepOp.push(op);
    }
    const info = this.stepInfo === null ? null : (this.stepInfo[this.stepThread.length - 1] = (raceLog as RaceLog).stepBegin(th.frames, op.label ?? op.kind, op.obj?.name ?? "", op.mode));
    // Field footprints: a split step on an object with a recorder, without a blocking condition,
    // is recorded; every other touch of such an object writes all of it. A split step's extra
    // objects (Op.also: a trylock taken under the state it checks) join its record as objects,
    // each with its declared mode; one with a recorder of its own is not split.
    const rec = this.fields && op.obj !== null ? op.obj.fields : undefined;
    const recording = rec != null && op.split === true && recordable(op);
    // A declared read that is not split is recorded too, only to see that it writes no recorded
    // field (then it reads all of the object: readAllFoot).
    const declaredRead = this.fields && readsAll(op);
    if (recording || declaredRead) (rec as FieldRecorder).begin();
    if (this.observeStep !== undefined) this.observeStep(t, op);
    const result = op.run ? op.run() : undefined;
    if (this.fields) {
      if (declaredRead) this.readAllFoot(op, (rec as FieldRecorder).end());
      else {
        const acc = recording ? (rec as FieldRecorder).end() : null;
        this.fieldFoot(op, acc);
        // Only a recorded step's crossings count: one that is not has no record and writes the
        // whole object, which wakes every sleeper on it anyway.
        const crossed = acc === null ? null : ((rec as FieldRecorder).crossed?.() ?? null);
        if (crossed !== null && crossed.length > 0) (this.stepCrossed ??= new Map()).set(this.stepThread.length - 1, crossed);
      }
    }
    if (info !== null) (raceLog as RaceLog).stepEnd(info);
    this.op = null;
    if (this.observe !== undefined) this.observe(t, result);
    const ev = this.detail ? this.trace[traceAt] : undefined;
    if (ev) ev.held = [...th.held];
    this.advance(t, result);
    // Notes made by the op or by the thread's code right after it belong to this step.
    if (ev) {
      ev.note = this.pendingNote.join("; ");
      this.pendingNote = [];
    }
  }

  /**
   * Field footprints: the last step's footprint from its record `acc` (FieldRecorder.end()): a
   * read of its object, which makes it depend on every unrecorded step on that object, plus the
   * fields under per-execution object ids. No record: the step writes the whole object (so it
   * depends on every step that touches any field of it).
   */
  private fieldFoot(op: Op, acc: number[] | null): void {
    const k = this.stepThread.length - 1;
    if (acc === null) {
      const pa = this.pendingAccess(op);
      this.stepMode[k] = pa[1];
      this.stepFoot[k] = pa[2];
      return;
    }
    const o = (op.obj as Tracked).id;
    const f: number[] = [o, MODE_READ], c: number[] = [o, MODE_READ];
    for (let i = 0; i < acc.length; i += 2) {
      const field = acc[i];
      if (!(field >= FIELD_MIN)) throw new ExplorerError(`internal: field number ${field} is below FIELD_MIN (it could name an object)`);
      f.push(this.fieldId(field, op), acc[i + 1]);
      c.push(field, acc[i + 1]);
    }
    // Extra objects are named by their ids in both, as a step that is not split names them
    // (canonAt); no object id reaches FIELD_MIN, so neither list can mistake one for a field.
    addAlso(op, f, c, 2 + acc.length);
    const any = (op.obj as Tracked).fields?.anyWrite;
    if (any !== undefined && !fieldMutations.noAnyWriteUpdate && writesAField(acc)) {
      f.push(this.anyWriteId(any, op), MODE_UPDATE);
      c.push(any, MODE_UPDATE);
    }
    this.stepObj[k] = o;
    this.stepMode[k] = MODE_READ;
    this.stepFoot[k] = f;
    this.stepCanon[k] = c;
  }

  /** The explorer object standing for field `field` of op's object in this execution. */
  private fieldId(field: number, op: Op): number {
    let id = this.fieldIds.get(field);
    if (id === undefined) {
      id = this.objects.length;
      this.objects.push(new FieldObject(id, field, op.obj?.fields ?? null));
      this.fieldIds.set(field, id);
    }
    return id;
  }

  /** The pseudo-object of op's object's anyWrite field: one per object, whatever its number
   *  (two recorders may name the same one; in a canonical record, where the number stands for
   *  it, that only adds dependencies), because dpor.ts's analyse cuts its lists at the object's
   *  own whole writes, which order only that object's steps (found by review, December 2026). */
  private anyWriteId(any: number, op: Op): number {
    const o = (op.obj as Tracked).id;
    let id = this.anyWriteOf.get(o);
    if (id === undefined && fieldMutations.sharedAnyWrite) this.anyWriteOf.set(o, (id = this.fieldId(any, op)));
    if (id === undefined) {
      id = this.objects.length;
      this.objects.push(new FieldObject(id, any, op.obj?.fields ?? null));
      this.anyWriteOf.set(o, id);
    }
    return id;
  }

  /**
   * Field footprints: a step that is not split, declared "r" on an object whose recorder has
   * anyWrite. If its record shows no write or update of a field and did not trip, it reads the
   * object and the anyWrite pseudo-field: it commutes with split steps that only read and with
   * other such reads, and conflicts with every split step that writes (they update anyWrite) and
   * every step that writes the whole object. Its reads need not be recorded: it reads all of it.
   * A record with a write, or a tripped one (state the recorder does not see, touched how is
   * unknown), makes it a whole-object write, as before.
   */
  private readAllFoot(op: Op, acc: number[] | null): void {
    const k = this.stepThread.length - 1;
    const any = (op.obj as Tracked).fields?.anyWrite as number;
    if (acc === null || (!fieldMutations.trustWritingReads && writesAField(acc))) return this.fieldFoot(op, null);
    const o = (op.obj as Tracked).id;
    const f: number[] = [o, MODE_READ, this.anyWriteId(any, op), MODE_READ], c: number[] = [o, MODE_READ, any, MODE_READ];
    addAlso(op, f, c, 4);
    this.stepObj[k] = o;
    this.stepMode[k] = MODE_READ;
    this.stepFoot[k] = f;
    this.stepCanon[k] = c;
  }

  /**
   * Would blocking op `op` (a step of this execution, or a thread's pending op) be enabled with its
   * object in guard state `s`, a state the object was in before some step (stepGuardState)? The
   * object is put back as it is now. Only once run() has returned: the guard runs as its op
   * (footprint.ts), with this execution as the runtime, as enabledMask() runs it.
   */
  enabledIn(op: Op, s: unknown): boolean {
    const obj = op.obj as Tracked;
    const now = (obj.guardState as () => unknown).call(obj);
    const prev = setRuntime(this);
    this.op = op;
    try {
      (obj.setGuardState as (s: unknown) => void).call(obj, s);
      return (op.enabled as () => boolean)();
    } finally {
      (obj.setGuardState as (s: unknown) => void).call(obj, now);
      this.op = null;
      setRuntime(prev);
    }
  }

  /** Field footprints: step k's footprint with fields under their cross-execution numbers. */
  canonOf(k: number): readonly number[] {
    return canonAt(this, k);
  }

  /** The (object, mode, footprint) DPOR compares a step that has not run with: under field
   *  footprints, an op on a recorded object (whose fields are unknown until it runs) writes all of it. */
  pendingAccess(p: Op): [number, number, number[] | null] {
    const o = p.obj ? p.obj.id : -1;
    let m = p.obj ? modeCode(p.mode) : 0;
    const f = p.also === undefined ? null : footprintOf(p);
    if (!this.fields) return [o, m, f];
    if (p.obj?.fields != null) m = MODE_WRITE;
    if (f !== null && p.also !== undefined) {
      if (p.obj?.fields != null) f[1] = MODE_WRITE; // the primary object comes first
      for (const t of p.also) if (t.obj.fields != null) for (let i = 0; i < f.length; i += 2) if (f[i] === t.obj.id) f[i + 1] = MODE_WRITE;
    }
    return [o, m, f];
  }

  /** Wait-for analysis when nothing can run: lockdep-style data in a "deadlock" finding. */
  private reportDeadlock(): void {
    const blocked: WaitEdge[] = [];
    const waits = new Map<number, number[]>();
    for (let t = 0; t < this.threads.length; t++) {
      const th = this.threads[t];
      if (th.done || th.pending === null) continue;
      const obj = th.pending.obj;
      const holders = obj?.holders?.() ?? [];
      waits.set(t, [...holders]);
      blocked.push({ thread: th.name, waitsFor: obj ? obj.name : "(nothing)", heldBy: holders.map((h) => this.threads[h].name), holds: [...th.held], op: labelOf(th.pending) });
    }
    // Find a cycle in the wait-for graph by walking from each blocked thread.
    let cycle: number[] = [];
    for (const start of waits.keys()) {
      const path: number[] = [];
      let t: number | undefined = start;
      while (t !== undefined && !path.includes(t)) {
        path.push(t);
        t = waits.get(t)?.find((h) => waits.has(h));
      }
      if (t !== undefined) {
        cycle = path.slice(path.indexOf(t));
        break;
      }
    }
    const byName = new Map(blocked.map((b) => [b.thread, b]));
    const cyc = cycle.map((t) => byName.get(this.threads[t].name) as WaitEdge);
    const parts = (cyc.length ? cyc : blocked).map((b) => `${b.thread} waits for ${b.waitsFor}${b.heldBy.length ? ` held by ${b.heldBy.join(", ")}` : " (nobody will release it)"}`);
    const data: DeadlockData = { cycle: cyc, blocked };
    this.findings.push({ kind: "deadlock", message: `${cyc.length ? "wait-for cycle" : "all threads blocked"}: ${parts.join("; ")}`, step: this.steps, data });
  }

  private wrap(e: unknown): unknown {
    if (e instanceof ExplorerError || e instanceof DeterminismError || e instanceof ModelError) return e;
    const token = encodeToken(this.decisions);
    const who = this.cur >= 0 ? `thread "${this.threadName(this.cur)}"` : "setup/final";
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return new ModelError(`Model "${this.model.name}" threw in ${who} at step ${this.steps}: ${msg}. Reproduce with replay(model, "${token}").`, token, e);
  }

  /** Token for this execution: decisions up to the last non-default one. */
  token(): string {
    let n = this.decisions.length;
    while (n > 0 && this.isDefault[n - 1]) n--;
    return encodeToken(this.decisions.slice(0, n));
  }
}

/** A field's pseudo-object (field footprints). Its name is made only when read (the race log,
 *  messages): it was built for every field every execution touched, a few strings each. */
class FieldObject implements Tracked {
  readonly type = "field";
  constructor(
    readonly id: number,
    private readonly field: number,
    private readonly recorder: FieldRecorder | null,
  ) {}
  get name(): string {
    return this.recorder?.describe?.(this.field) ?? `field ${this.field}`;
  }
}

/** The objects op declares it only updates ("u"), or null when none (most steps). */
function updatedObjects(op: Op): Tracked[] | null {
  let out: Tracked[] | null = null;
  if (op.mode === "u" && op.obj !== null) out = [op.obj];
  if (op.also !== undefined) for (const a of op.also) if (a.mode === "u") (out ??= []).push(a.obj);
  return out;
}
