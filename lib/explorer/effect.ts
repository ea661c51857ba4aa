// Effects: what a thread announces at each scheduling point.
//
// A thread is a generator; every `yield` hands the scheduler an Op describing the
// ONE shared-memory action the thread will perform next. The scheduler decides
// when to perform it (op.run()), and sends the result back into the generator.
// Because the op is known before it runs, search strategies can ask "is this
// thread enabled?" and "does it conflict with that step?" without running it.

/** How an op touches its object; decides the dependency relation used by DPOR. */
export type Mode = "r" | "w" | "local";
/** Numeric Mode for the hot path (0 = local, 1 = read, 2 = write). */
export const MODE_LOCAL = 0, MODE_READ = 1, MODE_WRITE = 2;
export const modeCode = (m: Mode): number => (m === "local" ? MODE_LOCAL : m === "r" ? MODE_READ : MODE_WRITE);

/** Anything the explorer tracks: a shared object with a per-execution id. */
export interface Tracked {
  /** Dense id, assigned in creation order within one execution (so ids are deterministic). */
  readonly id: number;
  readonly name: string;
  /** Short type word for traces ("var", "mutex", ...). */
  readonly type: string;
  /** Threads (indices) currently holding this object, for wait-for graphs. Absent = not a lock. */
  holders?(): readonly number[];
}

export interface Op {
  /** The object touched, or null for a purely thread-local step (never conflicts). */
  readonly obj: Tracked | null;
  /** Effect kind shown in traces: "read", "write", "lock", "unlock", "wait", "signal", ... */
  readonly kind: string;
  /** Dependency: two ops conflict iff same obj and not both "r". Blocking ops must be "w"
   *  on the object whose state decides their enabledness (sound DPOR needs the enabler to conflict). */
  readonly mode: Mode;
  /** Step label for traces (a function name in kernel models); defaults to kind(obj). */
  readonly label?: string;
  /** Absent = always enabled. Must be a pure function of shared state. */
  readonly enabled?: () => boolean;
  /** Performs the effect atomically when the scheduler picks this thread. */
  readonly run?: () => unknown;
}

/** A request for a nondeterministic value; resolved by the search like a schedule choice. */
export interface ChooseRequest {
  readonly choose: true;
  readonly label: string;
  readonly arity: number;
}

export type Yieldable = Op | ChooseRequest;

/** A thread body. Write `function* () { ... yield* x.read() ... }`. */
export type ThreadBody = () => Generator<Yieldable, unknown, unknown>;

export const isChoose = (y: Yieldable): y is ChooseRequest => (y as ChooseRequest).choose === true;

/** DPOR dependency on numeric modes: same object and at least one write. */
export function conflicts(objA: number, modeA: number, objB: number, modeB: number): boolean {
  return objA >= 0 && objA === objB && (modeA === MODE_WRITE || modeB === MODE_WRITE);
}
