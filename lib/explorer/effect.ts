// Effects: what a thread announces at each scheduling point.
//
// A thread is a generator; every `yield` hands the scheduler an Op describing the
// ONE shared-memory action the thread will perform next. The scheduler decides
// when to perform it (op.run()), and sends the result back into the generator.
// Because the op is known before it runs, search strategies can ask "is this
// thread enabled?" and "does it conflict with that step?" without running it.

/** How an op touches its object; decides the dependency relation used by DPOR. "u" is a
 *  commutative update: it commutes with every other "u" of the same object and conflicts with its
 *  reads and writes. Declare it only where every "u" step of that object applies one operation
 *  from a family whose members commute, so that two updates run in either order leave the same
 *  state, each returns the same thing into its thread and touches the same objects: setting bits
 *  with OR, adding to a counter nobody tests in the same step, or one and the same function of
 *  the object that returns nothing (a function commutes with itself, whatever it tests: the
 *  kernel's mn_itree_inv_end). Not a decrement whose test escapes (a return value, a free). */
export type Mode = "r" | "w" | "local" | "u";
/** Numeric Mode for the hot path (0 = local, 1 = read, 2 = write, 3 = commutative update). */
export const MODE_LOCAL = 0, MODE_READ = 1, MODE_WRITE = 2, MODE_UPDATE = 3;
export const modeCode = (m: Mode): number => (m === "local" ? MODE_LOCAL : m === "r" ? MODE_READ : m === "u" ? MODE_UPDATE : MODE_WRITE);
/** An object named with mode "local" in a multi-object step counts as read (a write of it
 *  conflicts, and dpor.ts's happens-before files it with the reads). */
const asRead = (m: number): number => (m === MODE_LOCAL ? MODE_READ : m);
/** Two accesses to one object conflict unless both read or both update (modes, as numbers). */
export const modesConflict = (a: number, b: number): boolean => {
  const x = asRead(a), y = asRead(b);
  return x === MODE_WRITE || y === MODE_WRITE || x !== y;
};
/** One step's two accesses to one object, merged: equal modes stay, a read (or local) and a write
 *  or an update make a write. */
export const mergeModes = (a: number, b: number): number => (a === b ? a : asRead(a) === asRead(b) ? MODE_READ : MODE_WRITE);

/** Anything the explorer tracks: a shared object with a per-execution id. */
export interface Tracked {
  /** Dense id, assigned in creation order within one execution (so ids are deterministic). */
  readonly id: number;
  readonly name: string;
  /** Short type word for traces ("var", "mutex", ...). */
  readonly type: string;
  /** Threads (indices) currently holding this object, for wait-for graphs. Absent = not a lock. */
  holders?(): readonly number[];
  /** Field footprints: the recorder of this object's fields, when the execution uses them. */
  readonly fields?: FieldRecorder | null;
  /**
   * Guard state (dpor.ts, "Probes"): everything the enabled() of any op on this object reads, as
   * a value that setGuardState() puts back. DPOR then answers "would this blocked step be enabled
   * with the object as it was before step j?" by putting the old state back for one call of the
   * guard, instead of re-running the prefix. Give both or neither; a guard that reads state the
   * value leaves out makes that answer wrong (test/explorer/guard-state.test.ts and
   * test/kernel/guard-state.test.ts check them against the re-run).
   */
  guardState?(): unknown;
  setGuardState?(s: unknown): void;
}

/** Execution.stepGuardState's entry for a step on an object without a guard state. */
export const NO_GUARD_STATE: unique symbol = Symbol("no guard state");

export interface Op {
  /** The object touched, or null for a purely thread-local step (never conflicts). */
  readonly obj: Tracked | null;
  /** Effect kind shown in traces: "read", "write", "lock", "unlock", "wait", "signal", ... */
  readonly kind: string;
  /** Dependency: two ops conflict iff same obj and not both "r" and not both "u". Blocking ops must be "w"
   *  on the object whose state decides their enabledness (sound DPOR needs the enabler to conflict),
   *  or "r" when run() leaves that state as it found it: a blocking read, such as a critical section
   *  in one step that waits for its lock to be free (kernel Spinlock.section). Every step that can
   *  enable or disable it writes or updates the object, so it still conflicts; two such reads
   *  neither enable nor disable each other (dpor-soundness.test.ts, "one-step critical sections").
   *  An update ("u") may enable a blocked op (mn_itree_inv_end wakes read_begin's wait), never
   *  disable one: two updates commute, so DPOR's check that a race is reversible can run a
   *  disabling update before the blocked op where the execution ran a harmless one, and lose the
   *  order with the op first. Execution refuses a step that does (ExplorerError). */
  readonly mode: Mode;
  /** Step label for traces (a function name in kernel models); defaults to kind(obj). */
  readonly label?: string;
  /** Absent = always enabled. Must be a pure function of shared state. */
  readonly enabled?: () => boolean;
  /** Performs the effect atomically when the scheduler picks this thread. */
  readonly run?: () => unknown;
  /** More objects the same atomic step touches, each with its own mode (a multi-object step,
   *  e.g. a page-table update that also changes a frame's refcount). Two steps are dependent iff
   *  some object is in both footprints and at least one of them writes it. `enabled()` still
   *  depends only on `obj`. */
  readonly also?: readonly Touch[];
  /** Field footprints (search.fields, lib/explorer/README.md "Field footprints"): run() touches
   *  only state that `obj.fields` records (the model vouches for it), and the `also` objects.
   *  Such a step, without `enabled` and with no `also` object that has a recorder of its own,
   *  depends on others by the fields it touched and by its `also` objects; every other step on
   *  an object with a recorder counts as writing all of it, except a declared read seen to
   *  write no recorded field when the recorder has anyWrite (it reads all of it). */
  readonly split?: boolean;
  /**
   * A latch: a blocking read ("r", with `enabled`) whose condition, once true, stays true whatever
   * any thread does, and whose run() reads nothing shared (its thread already has what it
   * returns): it only waits. The kernel's wait for an interval notifier's sequence to move is one
   * (the sequence only grows: mmu_interval_read_begin). DPOR orders it after the step that enabled
   * it and after nothing else, never reverses a race with it, and keeps it asleep in a sleep set
   * whatever runs: a step before it that enabled it cannot follow it, and any other commutes with
   * it (it neither reads nor changes what that step touches, and that step cannot disable it).
   * Execution refuses a step that disables a latch it found enabled (ExplorerError), in every
   * execution it runs; but DPOR never reorders a latch, so it may never run the order that breaks
   * the promise. A model must also guard the promise where the condition's state is written (the
   * kernel's mmu_interval_set_seq refuses a value ahead of its callback's cur_seq). The thread's
   * code after the latch, up to its next op, runs in the latch's step: it too must touch nothing
   * another thread reads (dpor.ts header, "Latches").
   */
  readonly latch?: boolean;
}

/**
 * Which fields of one object a step touched. A field is a number >= FIELD_MIN computed from the
 * field's identity (never from the order fields were first touched), so the same number names
 * the same field in every execution that shares the prefix up to the step.
 */
export interface FieldRecorder {
  /** A step's run() starts. */
  begin(): void;
  /** Flat [field, mode, ...] (modes MODE_READ / MODE_WRITE / MODE_UPDATE, each field once), or null when the
   *  step touched state the recorder does not cover: then it counts as writing the whole object. */
  end(): number[] | null;
  /** A readable name for a field (race log, traces). */
  describe?(field: number): string;
  /**
   * A field number no real field has: "some field of this object changed". Given, every split step
   * that writes or updates a field also updates it, and a step that is not split, declared "r" and
   * seen to write no recorded field reads it (with a read of the object) instead of writing the
   * whole object: so such a read commutes with other reads, split or not, and still orders against
   * every write (lib/explorer/README.md, "Field footprints"). Absent: every step that is not split
   * writes the whole object.
   */
  readonly anyWrite?: number;
  /**
   * Fields whose commutative updates ("u") act on a threshold (the running step's, read after
   * end()): a count dropped by updates that each test it against zero. Such an update commutes with
   * another only while neither reaches the threshold, so the update that brings the field to the
   * last value above it (a count to 1) names it here, and DPOR then wakes every sleeper whose
   * record updates that field (dpor.ts, "Counts"): run now, the sleeper would cross the threshold,
   * which its record does not say. Absent, or null for a step: none.
   */
  crossed?(): readonly number[] | null;
}
/** Field numbers start here; every explorer object id is far below. */
export const FIELD_MIN = 2 ** 40;

/** One more object in a multi-object step's footprint. */
export interface Touch {
  readonly obj: Tracked;
  readonly mode: Mode;
}

/** A request for a nondeterministic value; resolved by the search like a schedule choice. */
export interface ChooseRequest {
  readonly choose: true;
  readonly label: string;
  readonly arity: number;
}

export type Yieldable = Op | ChooseRequest;

/**
 * A thread body: an arrow calling a module-level `function*`, `A: () => task(x)` with
 * `function* task(x) { ... yield* x.read() ... }` (a `function*` made in a model's setup is made
 * again every execution: lib/kernel/README.md, "No generator functions made per execution").
 */
export type ThreadBody = () => Generator<Yieldable, unknown, unknown>;

export const isChoose = (y: Yieldable): y is ChooseRequest => (y as ChooseRequest).choose === true;

/** DPOR dependency on numeric modes: same object, and not both reads nor both updates. */
export function conflicts(objA: number, modeA: number, objB: number, modeB: number): boolean {
  return objA >= 0 && objA === objB && modesConflict(modeA, modeB);
}

/**
 * Footprint of a multi-object op as flat pairs [obj, mode, obj, mode, ...], the primary object
 * first; an object named twice appears once, with the stronger mode. null for a single-object
 * (or local) op, whose footprint is just (obj.id, mode): the hot path allocates nothing.
 */
/** What enabledMaskOf needs of an execution: its threads, and where it says which op is running. */
export interface OpHost {
  readonly threads: readonly { readonly pending: Op | null }[];
  /** The op whose run() or enabled() is executing (footprint.ts checks state access against it). */
  op: Op | null;
}

/** The threads whose pending op can run now, as a bit mask; each enabled() runs as its op. */
export function enabledMaskOf(host: OpHost): number {
  let mask = 0;
  for (let t = 0; t < host.threads.length; t++) {
    const p = host.threads[t].pending;
    if (p === null) continue;
    if (p.enabled === undefined) mask |= 1 << t;
    else {
      host.op = p;
      if (p.enabled()) mask |= 1 << t;
      host.op = null;
    }
  }
  return mask;
}

export function footprintOf(op: Op): number[] | null {
  if (!op.also || op.also.length === 0) return null;
  const f: number[] = op.obj ? [op.obj.id, modeCode(op.mode)] : [];
  for (const t of op.also) {
    const o = t.obj.id, m = modeCode(t.mode);
    let i = 0;
    while (i < f.length && f[i] !== o) i += 2;
    if (i < f.length) f[i + 1] = mergeModes(f[i + 1], m);
    else f.push(o, m);
  }
  return f;
}

/** Does footprint f (flat pairs) conflict with one access (o, m)? */
function footHas(f: readonly number[], o: number, m: number): boolean {
  if (o < 0) return false;
  for (let i = 0; i < f.length; i += 2) if (f[i] === o && modesConflict(m, f[i + 1])) return true;
  return false;
}

/**
 * DPOR dependency of two steps, each given as its primary access (o, m) and its footprint
 * (null = the primary access alone): some shared object, written by at least one of them, or
 * updated by one and read by the other.
 */
export function stepsConflict(ao: number, am: number, af: readonly number[] | null, bo: number, bm: number, bf: readonly number[] | null): boolean {
  if (af === null && bf === null) return conflicts(ao, am, bo, bm);
  if (af === null) return footHas(bf as readonly number[], ao, am);
  if (bf === null) return footHas(af, bo, bm);
  for (let i = 0; i < af.length; i += 2) if (footHas(bf, af[i], af[i + 1])) return true;
  return false;
}

/** Does a step (primary o, footprint f) touch object `obj` at all? */
export function touches(o: number, f: readonly number[] | null, obj: number): boolean {
  if (f === null) return o === obj;
  for (let i = 0; i < f.length; i += 2) if (f[i] === obj) return true;
  return false;
}
