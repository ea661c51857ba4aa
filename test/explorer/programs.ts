// Random small concurrent programs for the DPOR-vs-DFS property test.
import fc from "fast-check";
import { choose, finding, Completion, model, Mutex, Obj, RwSem, Semaphore, SharedVar, spawn, step, WaitQueue, type Model } from "../../lib/explorer/index.ts";
import type { Execution } from "../../lib/explorer/execution.ts";
import type { Explore } from "../../lib/explorer/search.ts";

export type Instr =
  | { k: "r"; v: number }
  | { k: "w"; v: number; val: number }
  | { k: "inc"; v: number }
  | { k: "cw"; v: number }
  | { k: "signal" }
  | { k: "wait" }
  | { k: "rd"; body: Instr[] }
  | { k: "spawn"; body: Instr[] }
  | { k: "down" }
  | { k: "up" }
  | { k: "wq"; v: number }
  | { k: "wake" }
  | { k: "fatal"; v: number }
  // a finding that does NOT end the execution (only in statefulProgramArb)
  | { k: "warn"; v: number }
  // multi-object steps (Op.also): one atomic step on var a (mode ma) and var b (mode mb)
  | { k: "mv"; a: number; b: number; ma: "r" | "w" | "u"; mb: "r" | "w" | "local" | "u" }
  // a commutative update (mode "u", effect.ts): set bit `bit` of var v, returning nothing
  | { k: "or"; v: number; bit: number }
  // a blocking step on the gate (enabled once it is open) that also writes var v
  | { k: "gate"; v: number }
  // a write of var v that also opens the gate (the enabler is an extra object of the step)
  | { k: "open"; v: number }
  // a write of var v that also closes the gate: a pass is then disabled again, so the gate's last
  // write before a pass can be a race that cannot be reversed, with an earlier one that can
  | { k: "close"; v: number }
  // the gate as a lock: pass once it is open and close it behind (acquire; "open" releases)
  | { k: "take"; v: number }
  // a trylock of the gate (open it if it is closed) that reads var a and, if it opened the gate,
  // adds to var b: a conditional multi-object step, whose thread later waits on the gate
  | { k: "tryopen"; a: number; b: number }
  // a critical section in one step (kernel Spinlock.section): waits for the gate to be open and
  // leaves it as it was, so it only reads the gate (a blocking step of mode "r"), and touches
  // var v with mode m: reads it (r), rewrites it from its value (w) or sets bit `bit` (u)
  | { k: "sect"; v: number; m: "r" | "w" | "u"; bit: number }
  // a wait until every bit of `mask` (1, 2 or 3) is set in var v, as one blocking READ of v that
  // returns its value (mmu_interval_read_begin's wait_event, a fence wait): enabled by the OR
  // updates ("u") and plain writes ("w") of v, jointly when the mask has two bits, and disabled
  // again by a write that clears one
  | { k: "await"; v: number; mask: number }
  // the same wait as a latch (explorer effect.ts Op.latch): it returns nothing, and in programs
  // whose only changes of v are OR updates it stays open once open (latchProgramArb)
  | { k: "latch"; v: number; mask: number }
  | { k: "lock"; m: number; body: Instr[] }
  // lastzero's steps: read var a, write var b = that + 1 (a worker); read vars top, top-1, ...
  // until one is 0 (or var 0 is read) and record its index (the scanner, a loop whose length depends on the others)
  | { k: "cp"; a: number; b: number }
  | { k: "scan"; top: number }
  // read var v, then spawn the two bodies in that order if it read 0, else the other way round:
  // which child is the parent's first spawn depends on the schedule (a spawned thread's index and
  // its creation-path ordinal are then different things in different executions)
  | { k: "spawnby"; v: number; bodies: [Instr[], Instr[]] };

const simple: fc.Arbitrary<Instr> = fc.oneof(
  fc.record({ k: fc.constant("r" as const), v: fc.nat(1) }),
  fc.record({ k: fc.constant("w" as const), v: fc.nat(1), val: fc.nat(2) }),
  fc.record({ k: fc.constant("inc" as const), v: fc.nat(1) }),
  fc.record({ k: fc.constant("cw" as const), v: fc.nat(1) }),
  fc.constant({ k: "signal" as const }),
  fc.constant({ k: "wait" as const }),
  fc.constant({ k: "down" as const }),
  fc.constant({ k: "up" as const }),
  fc.record({ k: fc.constant("wq" as const), v: fc.nat(1) }),
  fc.constant({ k: "wake" as const }),
  fc.record({ k: fc.constant("fatal" as const), v: fc.nat(1) }),
);
const multi: fc.Arbitrary<Instr> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant("mv" as const), a: fc.nat(1), b: fc.nat(1), ma: fc.constantFrom("r" as const, "w" as const), mb: fc.constantFrom("r" as const, "w" as const, "local" as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("gate" as const), v: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("open" as const), v: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("close" as const), v: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("take" as const), v: fc.nat(1) }) },
);

function arbitraries(simple: fc.Arbitrary<Instr>) {
  const inner = (m: number): fc.Arbitrary<Instr> => fc.record({ k: fc.constant("lock" as const), m: fc.constant(m), body: fc.array(simple, { maxLength: 1 }) });
  const block: fc.Arbitrary<Instr> = fc.oneof(
    fc.nat(1).chain((m) => fc.record({ k: fc.constant("lock" as const), m: fc.constant(m), body: fc.array(fc.oneof(simple, inner(1 - m)), { maxLength: 2 }) })),
    fc.record({ k: fc.constant("rd" as const), body: fc.array(fc.record({ k: fc.constant("r" as const), v: fc.nat(1) }), { maxLength: 1 }) }),
    fc.record({ k: fc.constant("spawn" as const), body: fc.array(simple, { minLength: 1, maxLength: 2 }) }),
  );
  const threadArb = fc.array(fc.oneof({ weight: 3, arbitrary: simple }, { weight: 2, arbitrary: block }), { minLength: 1, maxLength: 3 });
  return { threadArb, programArb: fc.array(threadArb, { minLength: 2, maxLength: 3 }) };
}
export const { threadArb, programArb } = arbitraries(simple);
/** The same programs with multi-object steps mixed in (half the simple instructions are one). */
export const multiProgramArb = arbitraries(fc.oneof(simple, multi)).programArb;
/** Commutative updates (mode "u"): OR steps on the same variables that are read and written, and
 *  multi-object steps that update one variable and read, write or update another. */
const update: fc.Arbitrary<Instr> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant("or" as const), v: fc.nat(1), bit: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("mv" as const), a: fc.nat(1), b: fc.nat(1), ma: fc.constantFrom("r" as const, "w" as const, "u" as const), mb: fc.constantFrom("r" as const, "w" as const, "u" as const, "local" as const) }) },
);
export const updateProgramArb = arbitraries(fc.oneof(simple, update)).programArb;
/** With findings that do not end the execution: a state key must keep them (stateful.ts). */
export const statefulProgramArb = arbitraries(fc.oneof(simple, multi, fc.record({ k: fc.constant("warn" as const), v: fc.nat(1) }))).programArb;
/**
 * Programs where most steps can block (locks, the gate, the rwsem, semaphores, completions),
 * with a few plain steps in between: the races DPOR must probe (dpor.ts feasible()), where a
 * blocked thread has moved since the step it races with.
 */
const readWrite: fc.Arbitrary<Instr> = fc.oneof(
  fc.record({ k: fc.constant("r" as const), v: fc.nat(1) }),
  fc.record({ k: fc.constant("w" as const), v: fc.nat(1), val: fc.nat(2) }),
  fc.record({ k: fc.constant("cw" as const), v: fc.nat(1) }),
);
/** Steps that can block: completions, the semaphore, and the gate (its pass and its opener weighing `gate`). */
const blockingSteps = (gate: number): fc.Arbitrary<Instr> => fc.oneof(
  fc.constant({ k: "signal" as const }), fc.constant({ k: "wait" as const }),
  fc.constant({ k: "down" as const }), fc.constant({ k: "up" as const }),
  { weight: gate, arbitrary: fc.record({ k: fc.constant("gate" as const), v: fc.nat(1) }) }, { weight: gate, arbitrary: fc.record({ k: fc.constant("open" as const), v: fc.nat(1) }) },
);
export const blockingProgramArb = (() => {
  const plain = readWrite, blocking = blockingSteps(1);
  const locked = (inner: fc.Arbitrary<Instr>): fc.Arbitrary<Instr> => fc.oneof(
    fc.record({ k: fc.constant("lock" as const), m: fc.nat(1), body: fc.array(inner, { maxLength: 2 }) }),
    fc.record({ k: fc.constant("rd" as const), body: fc.array(fc.record({ k: fc.constant("r" as const), v: fc.nat(1) }), { maxLength: 1 }) }),
  );
  const instr = fc.oneof({ weight: 2, arbitrary: plain }, { weight: 2, arbitrary: blocking }, { weight: 3, arbitrary: locked(fc.oneof(plain, blocking, locked(plain))) });
  return fc.array(fc.array(instr, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 3 });
})();

/** An instruction on var 0 or 1 that takes nothing else. */
const onVar = <K extends "r" | "open" | "close" | "gate" | "take">(k: K) => fc.record({ k: fc.constant(k), v: fc.nat(1) });
/** A write of 0, 1 or 2 to var 0 or 1. */
const writeVar = fc.record({ k: fc.constant("w" as const), v: fc.nat(1), val: fc.nat(2) });
/** An OR of bit 0 or 1 into var 0 or 1 (a commutative update). */
const orVar = fc.record({ k: fc.constant("or" as const), v: fc.nat(1), bit: fc.nat(1) });
/** Three threads of one to three instructions each. */
const threeThreads = (instr: fc.Arbitrary<Instr>): fc.Arbitrary<Instr[][]> => fc.array(fc.array(instr, { minLength: 1, maxLength: 3 }), { minLength: 3, maxLength: 3 });

/**
 * Three threads around the gate: its conditional opener (tryopen), its passes and closers, and
 * plain reads and writes of the variables the openers read and write. The shape of a race that
 * only a blocked thread's pending step shows: one thread opens the gate and will wait on it,
 * another writes and closes it, a third reads what the opener writes (pending-race.test.ts).
 */
export const gateProgramArb = threeThreads(fc.oneof(
  onVar("r"),
  writeVar,
  fc.record({ k: fc.constant("tryopen" as const), a: fc.nat(1), b: fc.nat(1) }),
  onVar("close"),
  onVar("gate"),
  onVar("take"),
));

/** A gate: a blocking pass whose enabledness depends only on the gate (what DPOR requires). */
class Gate extends Obj {
  isOpen = false;
  constructor() {
    super("gate", "gate");
  }
  stateKey(): number {
    return this.isOpen ? 1 : 0;
  }
  /** Symmetry reduction (lib/explorer/symmetry.ts): the key names no thread. */
  get threadsInKey(): "none" {
    return "none";
  }
  snapshot(): boolean {
    return this.isOpen;
  }
  restore(s: unknown): void {
    this.isOpen = s as boolean;
  }
}

/** Deliberately wrong one-step critical sections, for the property's test of itself
 *  (dpor-soundness.test.ts): a section that closes the gate though it declares a read of it, and
 *  an update whose result depends on the order (declared "u"). */
export const sectionMutations = { closesGate: false, orderedUpdate: false };

/**
 * Three threads around the gate taken as a lock ("take" acquires, "open" releases, "close" takes
 * it back without waiting) and its one-step critical sections ("sect", blocking reads of the gate
 * that touch a variable as read, write or commutative update), beside plain reads, writes and
 * updates of the same variables: two sections are independent unless their variables conflict,
 * and every take, open, close and pass (a blocking write of the gate) orders against them.
 */
export const sectionProgramArb = threeThreads(fc.oneof(
  onVar("r"),
  writeVar,
  orVar,
  onVar("open"),
  onVar("close"),
  onVar("take"),
  onVar("gate"),
  { weight: 3, arbitrary: fc.record({ k: fc.constant("sect" as const), v: fc.nat(1), m: fc.constantFrom("r" as const, "w" as const, "u" as const), bit: fc.nat(1) }) },
));

/** A deliberately wrong wait, for the property's test of itself (dpor-soundness.test.ts): the wait
 *  declared an update ("u"), so it commutes with the OR updates that enable it and that change
 *  the value it returns. */
export const awaitMutations = { awaitDeclaredUpdate: false };

/**
 * Three threads of waits for a bit of a variable (blocking reads, "await") and the OR updates,
 * writes and reads of the same variables: the blocking rule of dpor.ts with enablers that are
 * commutative updates, not writes (the kernel's mn_itree_inv_end, an update, wakes read_begin's
 * wait). Two waits, and a wait and a read, commute; a wait and an update or write of its variable
 * do not.
 */
export const awaitProgramArb = threeThreads(fc.oneof(
  onVar("r"),
  writeVar,
  { weight: 2, arbitrary: orVar },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("await" as const), v: fc.nat(1), mask: fc.integer({ min: 1, max: 3 }) }) },
));

/**
 * Three threads of reads, OR updates, plain waits and latches (waits that only wait: explorer
 * effect.ts Op.latch, the kernel's wait for an interval notifier's sequence to move). Latches wait
 * on var 0, which only OR updates change, so every latch stays open once open, as the promise
 * asks; var 1 is also written (plain waits on it can close again). dpor.ts orders a latch after
 * the step that enabled it only and never reverses a race with it; the steps after a latch in its
 * thread are what that can get wrong (latchMutations in dpor.ts).
 */
export const latchProgramArb = threeThreads(fc.oneof(
  onVar("r"),
  { weight: 2, arbitrary: orVar },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("latch" as const), v: fc.constant(0), mask: fc.integer({ min: 1, max: 3 }) }) },
  fc.record({ k: fc.constant("await" as const), v: fc.nat(1), mask: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ k: fc.constant("w" as const), v: fc.constant(1), val: fc.nat(3) }),
));

export function stepsOf(is: Instr[]): number {
  let n = 0;
  for (const i of is)
    n += i.k === "inc" || i.k === "cp" ? 2 : i.k === "lock" || i.k === "rd" ? 2 + stepsOf(i.body) : i.k === "spawn" ? 1 + stepsOf(i.body)
      : i.k === "spawnby" ? 3 + stepsOf(i.bodies[0]) + stepsOf(i.bodies[1]) : i.k === "scan" ? i.top + 1 : i.k === "wq" ? 3 : 1;
  return n;
}

/** How many shared variables a program names (at least x and y). */
function varsOf(is: Instr[], n = 2): number {
  for (const i of is) {
    if ("v" in i) n = Math.max(n, i.v + 1);
    if (i.k === "cp" || i.k === "mv") n = Math.max(n, i.a + 1, i.b + 1);
    if (i.k === "scan") n = Math.max(n, i.top + 1);
    if (i.k === "lock" || i.k === "rd" || i.k === "spawn") n = varsOf(i.body, n);
    if (i.k === "spawnby") n = varsOf(i.bodies[1], varsOf(i.bodies[0], n));
  }
  return n;
}

/** A program's shared objects and register files, made per execution by programModel's setup. */
interface ProgramWorld {
  readonly vars: SharedVar<number>[];
  readonly mutexes: Mutex[];
  readonly done: Completion;
  readonly sem: RwSem;
  readonly counting: Semaphore;
  readonly wq: WaitQueue;
  readonly gate: Gate;
  readonly regs: Record<string, number[]>;
  readonly kids: Record<string, number>;
}

// The threads' code is module-level generator functions called from arrows, not generator
// functions made per execution: V8 gives every new generator closure that is called its own
// hidden class in the old generation, which keeps the closure's context (here every object of
// the execution) alive through every scavenge until a full collection (measured December 2026:
// 7 MB kept per scavenge instead of 0.1 MB; lib/kernel/README.md, "No generator functions made
// per execution", says why and how for the kernel and the chapters).
function* runInstrs(w: ProgramWorld, t: string, is: Instr[]): Generator<any, void, unknown> {
  const { vars, mutexes, done, sem, counting, wq, gate, regs, kids } = w;
  for (const i of is) {
    switch (i.k) {
      case "r": regs[t].push(yield* vars[i.v].read()); break;
      case "w": yield* vars[i.v].write(i.val); break;
      case "inc": { const v = yield* vars[i.v].read(); yield* vars[i.v].write(v + 1); break; }
      case "cw": yield* vars[i.v].write(10 + (yield* choose("c", 2))); break;
      case "signal": yield* done.complete(); break;
      case "wait": yield* done.wait(); break;
      case "rd": yield* sem.readLock(); yield* runInstrs(w, t, i.body); yield* sem.readUnlock(); break;
      case "lock": yield* mutexes[i.m].lock(); yield* runInstrs(w, t, i.body); yield* mutexes[i.m].unlock(); break;
      case "spawn": {
        // The child records its reads in a register file of its own (spawn order is deterministic per thread).
        // Its name comes from the parent's own count, not a counter shared by all threads: shared
        // state outside the explorer's objects would make independent steps not commute.
        const body = i.body, slot = `${t}/${kids[t] = (kids[t] ?? 0) + 1}`;
        regs[slot] = [];
        yield* spawn(`S${slot}`, () => runInstrs(w, slot, body));
        break;
      }
      case "spawnby": {
        const first = (yield* vars[i.v].read()) === 0 ? 0 : 1;
        for (const b of [first, 1 - first]) {
          const body = i.bodies[b], slot = `${t}/${kids[t] = (kids[t] ?? 0) + 1}`;
          regs[slot] = [b];
          yield* spawn(`S${slot}`, () => runInstrs(w, slot, body));
        }
        break;
      }
      case "cp": { const v = yield* vars[i.a].read(); yield* vars[i.b].write(v + 1); break; }
      case "scan": { let j = i.top; while ((yield* vars[j].read()) !== 0 && j > 0) j--; regs[t].push(j); break; }
      case "down": yield* counting.down(); break;
      case "up": yield* counting.up(); break;
      // wait until var v is nonzero (a wait_event on the queue; writers must wake)
      case "wq": { const v = vars[i.v]; yield* wq.waitEvent(() => nonZero(v)); break; }
      case "wake": yield* wq.wake(); break;
      // a finding that ends the execution, depending on what this thread reads
      case "fatal": if ((yield* vars[i.v].read()) === 1) finding("fatal", `T${t} read 1`, undefined, { end: true }); break;
      case "warn": if ((yield* vars[i.v].read()) === 0) finding("warn", `T${t} read 0`); break;
      case "mv": {
        const a = vars[i.a], b = vars[i.b], same = i.a === i.b;
        const seen = yield* step(`mv(${i.a}${i.ma},${i.b}${i.mb})`, {
          obj: a, kind: "mv", mode: i.ma, also: [{ obj: b, mode: i.mb }],
          run: () => {
            const va = a.peek(), vb = b.peek();
            // Only what the footprint allows: read what it reads or writes, write what it
            // writes; an update sets a bit and reads nothing else (one variable named twice
            // is accessed with the merged mode, effect.ts mergeModes: an update and a read
            // or write of it make a write).
            const merged = same && i.ma !== i.mb && i.mb !== "local";
            const ra = i.ma !== "u" || merged, rb = i.mb === "r" || i.mb === "w" || (same && (i.ma !== "u" || merged));
            if (i.ma === "w") a.set(va + (rb ? vb : 0) + 1);
            if (i.ma === "u") a.set(a.peek() | 8);
            if (i.mb === "w" && !same) b.set(2 * (ra ? va : 0) + 1);
            if (i.mb === "u") b.set(b.peek() | 16);
            return [i.ma === "r" ? va : -1, i.mb === "r" ? vb : -1];
          },
        });
        regs[t].push(...seen.filter((v) => v >= 0));
        break;
      }
      case "sect": {
        const v = vars[i.v], bit = 1 << i.bit, m = i.m;
        const seen = yield* step(`sect(gate; ${i.v}${m})`, {
          obj: gate, kind: "sect", mode: "r", enabled: () => gate.isOpen, also: [{ obj: v, mode: m }],
          run: () => {
            if (sectionMutations.closesGate) gate.isOpen = false;
            if (m === "u") return void v.set(sectionMutations.orderedUpdate ? 2 * v.peek() + bit + 1 : v.peek() | bit);
            const x = v.peek();
            if (m === "w") v.set(2 * x + 1);
            return m === "r" ? x : undefined;
          },
        });
        if (seen !== undefined) regs[t].push(seen as number);
        break;
      }
      case "or": { const v = vars[i.v], bit = 1 << i.bit; yield* step(`or(${i.v}, ${bit})`, { obj: v, kind: "or", mode: "u", run: () => void v.set(v.peek() | bit) }); break; }
      case "await": {
        const v = vars[i.v], mask = i.mask;
        regs[t].push(yield* step(`await(${i.v} & ${mask})`, { obj: v, kind: "await", mode: awaitMutations.awaitDeclaredUpdate ? "u" : "r", enabled: () => (v.peek() & mask) === mask, run: () => v.peek() }));
        break;
      }
      case "latch": {
        const v = vars[i.v], mask = i.mask;
        yield* step(`latch(${i.v} & ${mask})`, { obj: v, kind: "wait", mode: "r", enabled: () => (v.peek() & mask) === mask, latch: true });
        regs[t].push(mask);
        break;
      }
      case "gate": yield* step("pass(gate)", { obj: gate, kind: "pass", mode: "w", enabled: () => gate.isOpen, also: [{ obj: vars[i.v], mode: "w" }], run: () => vars[i.v].set(5) }); break;
      case "open": yield* step("open(gate)", { obj: vars[i.v], kind: "open", mode: "w", also: [{ obj: gate, mode: "w" }], run: () => { vars[i.v].set(3); gate.isOpen = true; } }); break;
      case "take": yield* step("take(gate)", { obj: gate, kind: "take", mode: "w", enabled: () => gate.isOpen, also: [{ obj: vars[i.v], mode: "w" }], run: () => { vars[i.v].set(vars[i.v].peek() + 100); gate.isOpen = false; } }); break;
      case "tryopen": yield* step("tryopen(gate)", { obj: gate, kind: "tryopen", mode: "w", also: [{ obj: vars[i.a], mode: "r" }, { obj: vars[i.b], mode: "w" }], run: () => { if (gate.isOpen) return; gate.isOpen = true; vars[i.b].set(vars[i.b].peek() + vars[i.a].peek() + 1); } }); break;
      case "close": yield* step("close(gate)", { obj: vars[i.v], kind: "close", mode: "w", also: [{ obj: gate, mode: "w" }], run: () => { vars[i.v].set(vars[i.v].peek() + 10); gate.isOpen = false; } }); break;
    }
  }
}

/** Thread W: takes the rwsem for writing, when some thread reads under it, to exercise blocking. */
function* rwsemWriter(w: ProgramWorld): Generator<any, void, unknown> {
  yield* w.sem.writeLock();
  yield* w.vars[0].write(7);
  yield* w.sem.writeUnlock();
}

/** wait_event's condition of instruction "wq": var v is nonzero. */
function* nonZero(v: SharedVar<number>): Generator<any, boolean, unknown> {
  return (yield* v.read()) !== 0;
}

/**
 * The model of a program; `order` is the order its threads T0, T1, ... are declared in (default
 * 0, 1, ...). The same program declared in another order numbers its threads otherwise, which
 * the reductions must not care about (optimal DPOR once lost traces of lastzero(4) declared
 * T0 T1 T4 T2 T3: optimal.test.ts).
 */
export function programModel(prog: Instr[][], order: readonly number[] = prog.map((_, t) => t)): Model<{ vars: number[]; regs: [string, number[]][] }> {
  const nv = prog.reduce((n, is) => varsOf(is, n), 2);
  return model("random program", () => {
    const vars = Array.from({ length: nv }, (_, v) => new SharedVar(v < 2 ? "xy"[v] : `v${v}`, 0));
    const mutexes = [new Mutex("M0"), new Mutex("M1")];
    const done = new Completion("done");
    const sem = new RwSem("sem");
    const counting = new Semaphore("S", 1);
    const wq = new WaitQueue("wq");
    const gate = new Gate();
    const regs: Record<string, number[]> = Object.fromEntries(prog.map((_, t) => [String(t), []]));
    const kids: Record<string, number> = {};
    const threads: Record<string, () => Generator<any, void, unknown>> = {};
    const w: ProgramWorld = { vars, mutexes, done, sem, counting, wq, gate, regs, kids };
    for (const t of order) threads[`T${t}`] = () => runInstrs(w, String(t), prog[t]);
    // A writer thread on the rwsem when some thread reads under it, to exercise blocking.
    if (JSON.stringify(prog).includes('"rd"')) threads.W = () => rwsemWriter(w);
    // Sorted keys: the final state must not depend on when (in the schedule) a child was created.
    return { threads, final: () => ({ vars: vars.map((v) => v.peek()), regs: Object.keys(regs).sort().map((k) => [k, regs[k]]) }) };
  });
}

/** Run a strategy over a model and collect the outcome keys of its finished executions. */
export function outcomesBy(m: Model<unknown>, explore: Explore, limit: number, key: (x: Execution) => string, maxSteps = 200): { set: Set<string>; executions: number; complete: boolean } {
  const set = new Set<string>();
  let executions = 0;
  const r = explore({
    model: m, config: {}, maxSteps,
    visit(x: Execution) {
      executions++;
      set.add(key(x));
      return true;
    },
    outOfBudget: () => executions >= limit,
    ran() {},
  });
  return { set, executions, complete: r.complete };
}

/** Every (final state, finding kinds) an explorer reaches on m, within `limit` executions.
 *  `finalKey` turns a final state into its observable key (default: the JSON of it). */
export function outcomes(m: Model<unknown>, explore: Explore, limit: number, maxSteps = 200, finalKey: (f: unknown) => string = (f) => JSON.stringify(f)): { set: Set<string>; executions: number; complete: boolean } {
  return outcomesBy(m, explore, limit, (x) => outcomeKey(x, finalKey), maxSteps);
}

/** An execution's outcome as outcomes() keys it: its final state and the kinds of its findings. */
export function outcomeKey(x: Pick<Execution, "final" | "findings">, finalKey: (f: unknown) => string = (f) => JSON.stringify(f)): string {
  return finalKey(x.final) + "|" + [...new Set(x.findings.map((f) => f.kind))].sort().join(",");
}

/**
 * Programs without blocking steps (no locks, completions, semaphores, wait queues, gate), with
 * choose() (cw) and multi-object steps: where optimal DPOR must run exactly one execution
 * per Mazurkiewicz trace (traces.ts counts them).
 */
export const plainProgramArb = (withFatal: boolean) => {
  const plain: fc.Arbitrary<Instr>[] = [
    fc.record({ k: fc.constant("r" as const), v: fc.nat(1) }),
    fc.record({ k: fc.constant("w" as const), v: fc.nat(1), val: fc.nat(2) }),
    fc.record({ k: fc.constant("inc" as const), v: fc.nat(1) }),
    fc.record({ k: fc.constant("cw" as const), v: fc.nat(1) }),
    fc.record({ k: fc.constant("mv" as const), a: fc.nat(1), b: fc.nat(1), ma: fc.constantFrom("r" as const, "w" as const), mb: fc.constantFrom("r" as const, "w" as const, "local" as const) }),
  ];
  if (withFatal) plain.push(fc.record({ k: fc.constant("fatal" as const), v: fc.nat(1) }));
  return fc.array(fc.array(fc.oneof(...plain), { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 3 });
};

/**
 * plainProgramArb's instructions with spawn(), nested up to two deep (a child that spawns): the
 * programs where a thread's index depends on the order of spawns in the schedule, so optimal
 * DPOR's wakeup sequences must name threads by creation path (dpor.ts StableIds).
 */
export const spawnProgramArb = (withFatal: boolean, byValue = false) => {
  const plain: fc.Arbitrary<Instr>[] = [
    fc.record({ k: fc.constant("r" as const), v: fc.nat(1) }),
    fc.record({ k: fc.constant("w" as const), v: fc.nat(1), val: fc.nat(2) }),
    fc.record({ k: fc.constant("cw" as const), v: fc.nat(1) }),
    fc.record({ k: fc.constant("mv" as const), a: fc.nat(1), b: fc.nat(1), ma: fc.constantFrom("r" as const, "w" as const), mb: fc.constantFrom("r" as const, "w" as const, "local" as const) }),
  ];
  if (withFatal) plain.push(fc.record({ k: fc.constant("fatal" as const), v: fc.nat(1) }));
  const leaf = fc.oneof(...plain);
  const spawn1 = (body: fc.Arbitrary<Instr>): fc.Arbitrary<Instr> => fc.record({ k: fc.constant("spawn" as const), body: fc.array(body, { minLength: 1, maxLength: 2 }) });
  // byValue: also spawnby, whose order of spawns depends on a value read, and threads that step, then spawn.
  const spawnOf = !byValue ? spawn1 : (body: fc.Arbitrary<Instr>): fc.Arbitrary<Instr> => fc.oneof(
    { weight: 2, arbitrary: spawn1(body) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant("spawnby" as const), v: fc.nat(1), bodies: fc.tuple(fc.array(leaf, { minLength: 1, maxLength: 1 }), fc.array(body, { minLength: 1, maxLength: 1 })) }) },
  );
  const child = fc.oneof({ weight: 3, arbitrary: leaf }, { weight: 1, arbitrary: spawnOf(leaf) });
  const instr = fc.oneof({ weight: 3, arbitrary: leaf }, { weight: 2, arbitrary: spawnOf(child) });
  const thread = fc.array(instr, { minLength: 1, maxLength: 3 });
  return fc.array(!byValue ? thread : fc.oneof(thread, fc.tuple(fc.array(leaf, { maxLength: 2 }), spawnOf(child)).map(([pre, sp]) => [...pre, sp])), { minLength: 2, maxLength: 3 });
};

/** A program with the order its threads are declared in: any permutation of its threads. */
export type Declared = { prog: Instr[][]; order: number[] };
export const permuted = (arb: fc.Arbitrary<Instr[][]>): fc.Arbitrary<Declared> =>
  arb.chain((prog) => fc.record({ prog: fc.constant(prog), order: fc.shuffledSubarray(prog.map((_, t) => t), { minLength: prog.length }) }));

/**
 * The lastzero family (Abdulla et al.'s benchmark, bench/explorer-models.ts), declared in any
 * order: an array of n + 1 cells, a scanner reading down from cell n to the first 0, and n workers,
 * the classic one reading cell j - 1 and writing cell j (sometimes other cells). Optimal DPOR lost
 * traces when a later-numbered worker's race had to be reversed under an earlier-numbered one's
 * (lastzero(4) declared T0 T1 T4 T2 T3): the plain generated programs, with two variables and
 * threads declared in one order, never drew that shape. Sometimes the workers are spawned instead,
 * dealt round-robin to two or three spawner threads (the spawns' order then varies too).
 */
export const lastzeroArb: fc.Arbitrary<Declared> = fc.integer({ min: 2, max: 4 }).chain((n) => {
  const worker = (j: number): fc.Arbitrary<Instr> => fc.oneof(
    { weight: 4, arbitrary: fc.constant({ k: "cp" as const, a: j - 1, b: j }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant("cp" as const), a: fc.nat(n), b: fc.integer({ min: 1, max: n }) }) },
  );
  const progArb = fc.tuple(fc.tuple(...Array.from({ length: n }, (_, j) => worker(j + 1))), fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 3 }) }))
    .map(([ws, spawners]): Instr[][] => {
      const scan: Instr[] = [{ k: "scan", top: n }];
      if (spawners === 0) return [scan, ...ws.map((w) => [w])];
      const s: Instr[][] = Array.from({ length: spawners }, () => []);
      ws.forEach((w, j) => s[j % spawners].push({ k: "spawn", body: [w] }));
      return [scan, ...s.filter((x) => x.length > 0)];
    });
  return permuted(progArb);
});

/**
 * blockingProgramArb's steps (locks, the gate, the rwsem, semaphores, completions) with spawn()
 * nested two deep, and spawnby (a spawner whose order of spawns depends on a value it reads). A
 * race of a spawned thread's blocking step is decided by a probe that re-runs a reordered prefix
 * (dpor.ts feasible()), which can spawn in another order than the execution it comes from: the
 * probe once named threads by index there and dropped races (dpor-soundness.test.ts, "probes name
 * spawned threads"); neither blockingProgramArb (no spawn) nor spawnProgramArb (no blocking) drew one.
 */
export const spawnBlockingProgramArb = (() => {
  const plain = readWrite;
  const blocking = fc.oneof(
    { weight: 10, arbitrary: blockingSteps(3) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant("lock" as const), m: fc.nat(1), body: fc.array(plain, { maxLength: 1 }) }) },
  );
  const leaf = fc.oneof(plain, blocking);
  // Mostly one-step children: the programs stay within the step bound with several spawns.
  const body = (inner: fc.Arbitrary<Instr>) => fc.oneof({ weight: 3, arbitrary: fc.tuple(inner) }, { weight: 1, arbitrary: fc.tuple(inner, inner) });
  const spawnOf = (inner: fc.Arbitrary<Instr>): fc.Arbitrary<Instr> => fc.oneof(
    { weight: 3, arbitrary: fc.record({ k: fc.constant("spawn" as const), body: body(inner) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant("spawnby" as const), v: fc.nat(1), bodies: fc.tuple(fc.array(leaf, { minLength: 1, maxLength: 1 }), fc.array(leaf, { minLength: 1, maxLength: 1 })) }) },
  );
  const child = fc.oneof({ weight: 4, arbitrary: leaf }, { weight: 1, arbitrary: spawnOf(leaf) });
  const instr = fc.oneof({ weight: 1, arbitrary: leaf }, { weight: 1, arbitrary: spawnOf(child) });
  // Half the threads take a step or two, then spawn: the shape whose spawn a reordered prefix
  // leaves out (notdep(j) keeps no step of j's thread after j), renumbering the later children.
  const thread = fc.oneof(
    fc.array(instr, { minLength: 1, maxLength: 3 }),
    fc.tuple(fc.array(leaf, { minLength: 0, maxLength: 2 }), spawnOf(child)).map(([pre, sp]) => [...pre, sp]),
  );
  return fc.array(thread, { minLength: 2, maxLength: 3 });
})();
