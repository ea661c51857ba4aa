// Exhaustive exploration with Source-DPOR and sleep sets:
//   Abdulla, Aronis, Jonsson, Sagonas, "Optimal Dynamic Partial Order Reduction",
//   POPL'14, and "Source Sets: A Foundation for Optimal Dynamic Partial Order
//   Reduction", JACM 64(4) 2017 — Algorithm 2 (source-DPOR with sleep sets).
//
// Explores at least one execution of every Mazurkiewicz trace (equivalence class
// of executions under swapping adjacent independent steps). Two steps are
// dependent iff they touch the same object and at least one is a write (effect.ts).
// A multi-object step (Op.also) touches a set of objects: it is dependent with
// another step iff their footprints share an object that one of them writes, and
// its happens-before edges and races are those of each object it touches.
//
// Deviations, each erring towards exploring MORE (never fewer) executions:
//  * Not optimal-DPOR by default: no wakeup trees, so some sleep-set-blocked runs happen
//    (counted as pruned, never reported as executions). With `optimal: true` (JACM Alg. 3)
//    a race inserts the reversing sequence into the node's wakeup tree (wakeup.ts) instead
//    of one initial into `backtrack`; the fallbacks below (blocking, ends) still add to
//    `backtrack`, explored after the tree's branches, so those programs stay non-optimal.
//    Wakeup sequences name threads and objects by stable ids (StableIds below), so spawn() and
//    objects created by threads keep their names when a sequence is replayed after a reordering.
//  * Blocking. The papers assume every thread's next step is enabled. Here a
//    thread blocked on an object is disabled, and the object's enabler (a release,
//    a signal) is a write or a commutative update of that same object, so it is dependent
//    (whether the blocked op writes the object or only reads it: a one-step critical section,
//    kernel Spinlock.section, waits for its lock to be free and leaves it so, a wait for a fence
//    or an interval notifier's sequence only reads; two such reads do not enable or disable
//    each other, and every lock and unlock writes the lock; mn_itree_inv_end, which wakes the
//    sequence's waiters, is an update: test/explorer/programs.ts awaitProgramArb). A race whose
//    later step was DISABLED just before the earlier step (the earlier step enabled
//    it: release -> acquire) cannot be reversed, so race detection skips it and
//    keeps scanning back to the step that really competes (acquire vs acquire),
//    like the "may be co-enabled" test of Flanagan & Godefroid (POPL'05). If the
//    computed initials are nevertheless not enabled at the race point, all enabled
//    threads are added there (the conservative Flanagan–Godefroid fallback).
//  * Executions that end with unfinished threads (deadlock, a finding with
//    { end: true }, the step bound, a sleep-set-blocked run) also race-check each
//    unfinished thread's pending step against the execution, as if it were the next step.
//  * A step that ends the execution (a finding with { end: true }) is treated as
//    dependent with every step of every other thread (the cut is not commutable),
//    and a thread whose step did that is never kept in a sleep set.
//  * choose() is thread-local and independent of everything; its values are
//    explored exhaustively at the step that makes them (an odometer per node).
//  * Sharding (shard.ts): the root node explores every enabled thread (full
//    expansion, sleep set = lower-numbered root threads) and each shard owns every
//    count-th of them. That is source-DPOR with a larger root backtrack set, so
//    sound; the union may contain a few more executions than the unsharded run.
//  * Subtrees (steal.ts): a scheduler can start below a frozen prefix and explore only
//    one thread at its root node (`root`); races that reach the root or above are handed
//    to `foreign` instead of changing nodes it does not own. Unset, nothing changes.
//
// Field footprints (config.fields; lib/explorer/README.md). A split step's footprint is what its
// run() read and wrote, as recorded, plus a read of its object; any other step on a recorded
// object writes the whole of it (Execution.fieldFoot / pendingAccess), except a declared read
// seen to write nothing recorded, which reads all of it (Execution.readAllFoot: it reads the
// recorder's anyWrite pseudo-field, which every split write updates). Sleep sets keep, for each
// sleeper, the record of the step it ran when it was explored (DNode.sleepFoot) and compare later
// steps with that record instead of with the pending op. Why that is sound: at node n thread t ran
// step e, which read set R and wrote W. The sleeper stays asleep only past steps that write
// nothing in R ∪ W and read nothing in W. Its own thread has not moved, so its local state is as at
// n; every field in R holds the value it had at n (no step since wrote it), and run() is a
// deterministic function of the thread's state and the values it reads (the determinism guard and
// the recorder's completeness, lib/kernel/README.md): so e, run now, reads the same fields, gets
// the same values, and writes the same fields: the record is still its footprint. A field's
// number names the same field in both executions for every structure that existed at n (same
// prefix, deterministic ids); structures made after n are made by the steps in between, and a
// number that collides with one of them only adds a dependency. A step that touched unrecorded
// state has no record (a whole-object write), so it never leaves a sleeper asleep by a record.
// A sleeper without a record (a shard's root threads, put to sleep unexplored) is compared by its
// pending op as a whole-object write, and a split one, or a declared read (readsAll), is
// re-opened whenever it is woken ("Wakes").
//
// What the theory of source sets does not cover (found by review, December 2026): it assumes a
// thread's next event touches the same things wherever it runs, and a split step does not: its
// fields follow the values it reads (a PTE names the frame). Two rules mend the two places where
// that assumption is used; without the first, generated programs lose outcomes
// (test/explorer/field-foot.test.ts keeps some):
//  * Wakes (checkWakes). A race (j, k) may be left to another initial's subtree at pre(j), which
//    is expected to meet j again and order k before it. There j's thread sleeps (it was explored
//    at pre(j)); a step that writes what j read wakes it as another step on other fields, the
//    conflict with k is gone, and the trace k..j..(that write) is never explored. So an inherited
//    sleeper woken by a write to what its record touched is explored at the parent node too, the
//    last node where its step is still j, unless its next step in the execution has the same
//    footprint as j (then it is the same event as far as dependence goes). A record that writes
//    the whole of a recorded object (a step that tripped, or a declared read that wrote, there)
//    counts as touching every field of it: a split write to any field wakes it so (wholeWriteWoken).
//  * Initials (addBacktrack). k's thread counts as an initial of notdep(j).k only when notdep(j)
//    is empty: k read values written by j and by the steps after j outside notdep(j), so the step
//    its thread takes after pre(j).notdep(j) may touch other fields than k did, and whether it is
//    independent of notdep(j) is unknown. (No generated program has needed this rule yet; it
//    follows from the same assumption, and it only adds threads to backtrack sets.)
//
// Latches (effect.ts Op.latch): a blocking read whose condition, once true, stays true whatever
// runs, and whose run() reads nothing shared. Such a step L of thread q depends on one step only:
// the one that enabled it (the step just before the first point, since q's previous step, where
// q was enabled; none if L was enabled when q reached it). analyse() joins L's clock with that
// step's and nothing else, puts L in no object's lists (no race has L on either side), and a
// sleeping L is never woken (pickThread). Why that is sound: every other step x either ran while L
// was enabled, and then L and x commute (x cannot disable L, which Execution checks after every
// step, and L neither reads nor changes what x touches), or ran while L was disabled, before its
// enabler, and L cannot be moved before it; so the only order L imposes is after its enabler,
// and the trace of an execution is the same with L anywhere after it. What goes wrong otherwise:
// ordered as the read it is declared (after every earlier change of its object, and every later
// change after it) but in no race, L orders an update before it ahead of the steps of q after it,
// and their race with that update is never seen (test/explorer/dpor-soundness.test.ts, latches,
// the readEdges mutant). The clock so made is not a trace order: with two commuting updates that
// each could have enabled L (two invalidations' ends), L is joined with the one that did here, and
// an order with the other one last looks possible although L is disabled there. Such a missing
// edge only makes a race look reversible that is not; the reversed prefix finds L disabled, and
// the fallbacks (feasible(), "all enabled threads") explore more, never less. Leaving out the
// enabler's edge altogether loses nothing on generated programs either; the edge saves that work.
// A pending latch in an execution that ends with it unfinished is still race-checked as the read
// it is declared (below, "Pending steps"): more backtracks, never fewer.
//
// Counts (effect.ts FieldRecorder.crossed): a field updated by steps that each decrement it and
// test it against zero (the kernel's put_page, lib/kernel/page.ts putPage). Two decrements that
// both leave it above zero commute where they ran (in the other order both still leave it above
// zero, and neither returns anything), so the model records such a decrement as a commutative
// update (MODE_UPDATE) and analyse() finds no race between two of them. A sleeper whose record
// is such an update is another matter: it stays asleep past other updates, and once the count is
// down to 1 it would free, which its record does not say. So the decrement that leaves exactly 1
// names the field (Execution.stepCrossed) and wakes every sleeper whose record updates that field,
// as a write would (pickThread; and checkWakes re-opens it, as for any woken sleeper). Every
// other step on the count (a get, a read, a decrement that frees) reads or writes it and wakes the
// sleeper anyway. Without the crossing rule generated programs lose outcomes
// (test/kernel/put-page-races.test.ts keeps the mutant, PhysMem.dropAs "no-crossing").
// Race analysis needs one more fact, since here a step independent of a thread (another drop)
// can turn that thread's next drop from an update into the write that frees, which "What the
// theory... does not cover" below allows only for a write to what the step read. A reordering
// that analyse() builds (pre(j), then notdep(j), then the racing step) only takes steps that
// happen after j out from in front of a drop, and every get or read of the same count before a
// drop already happens before it (they read and write the count); so a drop recorded as an update
// sees a count at least as high as it did, and stays an update. Only which drop names the
// crossing can move, and that only wakes sleepers. This holds while (1) no increment of such a
// count is recorded as an update, (2) the decrement recorded as an update is the only one that
// skips the recorder (PhysMem.putPage's refRaw), and (3) nothing else reads the count around the
// recorder; lib/kernel/page.ts keeps all three (found by review, December 2026: 21,000 generated
// programs, shards and work stealing lost no outcome; the two mutants did).
//
// Probes (feasible() in analyse) learn whether q's blocked step k would be enabled after
// pre(j).notdep(j). Its guard reads only its object o (effect.ts Op.enabled), so when no step of
// notdep(j) touches o, o is there as it was just before j, and two cheaper answers come first:
// q had not moved since before j (then x recorded it: enabledBefore), or j is a step on o, whose
// guard state x took before j ran (Tracked.guardState): k's op is asked with that state put back
// for one call (Execution.enabledIn). Otherwise the reordered prefix is re-run. In the book every
// probe was of the second kind (10,734 re-runs of about as many executions' steps, in chapters
// 01, 03, 05-08, 13; test/explorer/guard-state.test.ts, test/kernel/guard-state.test.ts).
// Re-run answers are remembered for the rest of the search, keyed by the probe's whole schedule
// (probeKey): the model is a deterministic function of its decisions (the determinism guard
// enforces it; every replay token relies on it), so the same schedule gives the same answer, and
// a remembered answer changes nothing the search does.

import { FIELD_MIN, footprintOf, MODE_UPDATE, MODE_WRITE, modeCode, NO_GUARD_STATE, type Op, stepsConflict, touches } from "./effect.ts";
import { DEFAULT_FIELDS, DEFAULT_OPTIMAL } from "./config.ts";
import { ExplorerError } from "./errors.ts";
import { canonAt, Execution, fieldMutations, readsAll, type Scheduler } from "./execution.ts";
import type { Explore, SearchContext, SearchOutcome } from "./search.ts";
import { raceLog } from "./race-log.ts";
import { insert, weakInitial, type WuEvent, type WuNode } from "./wakeup.ts";

export interface Choice {
  v: number;
  readonly arity: number;
}

export interface DNode {
  /** Thread run at this node (its step is event index = node index). */
  thread: number;
  /** choose() values made while that step ran, as an odometer. */
  choices: Choice[];
  /** Enabled threads at this state. */
  readonly enabled: number;
  /** Threads scheduled to be explored here; superset of explored ones. */
  backtrack: number;
  /** Sleep set: inherited sleepers plus threads fully explored here. Never explored again here. */
  sleep: number;
  /** Sleepers inherited from the parent (not explored here); field footprints may re-open them. */
  inherited: number;
  /** Threads whose step here ended the execution ({ end: true }): dependent with every step. */
  stops: number;
  /** Field footprints: what each sleeping thread's step touched when it was explored here or at
   *  an ancestor (Execution.canonOf); a sleeper without one is compared by its pending op. */
  sleepFoot?: Map<number, readonly number[]>;
  /** Field footprints: inherited sleepers of the parent that the parent's step woke by writing
   *  what their record touched, with that record (checked by DporScheduler.checkWakes). */
  woken?: Map<number, readonly number[]>;
  /** Optimal mode: the wakeup tree's branches still to explore here (wakeup.ts). */
  wut?: WuNode[];
  /** Optimal mode: the branches taken with `thread`, one per choose() outcome; their children guide the next node. */
  guides?: WuNode[];
  /** Optimal mode: stable id of each thread index (at least those that exist at this node), to
   *  follow a wakeup branch, which names threads by stable id (StableIds). */
  sids?: readonly number[];
}

/** Stable ids of spawned threads start here (above any thread index: MAX_THREADS is 31). */
const SPAWNED_BASE = 32;
/** Stable ids of objects created by a thread after the first step start here. */
const MADE_BASE = 1 << 28;

/**
 * Optimal mode: names of threads and objects that are the same in every execution, for wakeup
 * sequences. A thread's index is given when it is created, so a spawned thread's index depends on
 * which spawns came first in the schedule, and so does an object's id when a thread creates it: a
 * sequence found in one execution and replayed after a reordered prefix would name other threads
 * and objects. Nidhugg names threads by creation path (CPid); so do we (Execution's `path`): a
 * model thread keeps its index, a spawned thread is SPAWNED_BASE + its interned path. An object
 * made before the first step keeps its id (setup is deterministic); one made later is MADE_BASE +
 * its maker's path and its ordinal among the maker's objects (Execution.objectPath). The maker's
 * code between two of its steps is deterministic given its history, so the ordinal names the same
 * object in every execution in which that thread got that far.
 */
export class StableIds {
  private readonly ids = new Map<string, number>();
  private x: Execution | null = null;
  private tids: number[] = [];
  private intern(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) this.ids.set(key, (id = this.ids.size));
    return id;
  }
  /** Thread t of x. */
  thread(x: Execution, t: number): number {
    return x.threads[t].parent < 0 ? t : SPAWNED_BASE + this.intern(x.threads[t].path);
  }
  /** Object o of x (-1: none). */
  object(x: Execution, o: number): number {
    if (o < 0) return o;
    const path = x.objectPath(o);
    if (path === null) {
      if (o >= MADE_BASE) throw new Error(`internal: object id ${o} reaches the stable ids of made objects`);
      return o;
    }
    return MADE_BASE + this.intern(path);
  }
  /** A footprint ([obj, mode, ...]) of x with stable object ids. */
  foot(x: Execution, f: readonly number[] | null): number[] | null {
    if (f === null) return null;
    const g = f.slice();
    for (let i = 0; i < g.length; i += 2) g[i] = this.object(x, g[i]);
    return g;
  }
  /** Stable ids of x's threads by index; one array per execution, which only grows. */
  threads(x: Execution): readonly number[] {
    if (this.x !== x) {
      this.x = x;
      this.tids = [];
    }
    for (let t = this.tids.length; t < x.threads.length; t++) this.tids.push(this.thread(x, t));
    return this.tids;
  }
  /** Index in x of the thread with stable id `sid`, -1 if x has no such thread (yet). */
  indexIn(x: Execution, sid: number): number {
    if (sid < SPAWNED_BASE) return sid < x.threads.length ? sid : -1;
    for (let t = 0; t < x.threads.length; t++) if (x.threads[t].parent >= 0 && this.thread(x, t) === sid) return t;
    return -1;
  }
  /** The stable id of the thread thread t's pending spawn would create (its next child's path). */
  nextChild(x: Execution, t: number): number {
    const th = x.threads[t];
    return SPAWNED_BASE + this.intern(`${th.path}.${th.kids}`);
  }
}

/** Index of the thread with stable id `sid` at node n, -1 if it does not exist there. */
const indexAt = (n: DNode, sid: number): number => (sid < SPAWNED_BASE ? sid : (n.sids?.indexOf(sid) ?? -1));

const lowest = (m: number): number => 31 - Math.clz32(m & -m);

export class DporScheduler implements Scheduler {
  nodes: DNode[] = [];
  /** analyse()'s scratch buffer (scratchInts): one per search, never module state (lib/ is shared between units). */
  scratch = new Int32Array(4096);
  /**
   * Subtree mode (steal.ts): depth of the root node of the subtree this scheduler owns, -1 for
   * the whole tree. Nodes above it are a frozen prefix, and at the root only `rootThread` is
   * explored (with `rootSleep` / `rootStops`, computed by whoever owns the rest of that node).
   */
  root = -1;
  rootThread = -1;
  rootSleep = 0;
  rootStops = 0;
  /** Subtree mode, field footprints: the root's sleepers that count as inherited (checkWakes may
   *  re-open them); a unit without that list passes them all, which only re-opens more. */
  rootInherited = 0;
  /** Subtree mode, field footprints: records of the root's sleepers (DNode.sleepFoot), where known. */
  rootSleepFoot: ReadonlyMap<number, readonly number[]> | undefined = undefined;
  /** Subtree mode: receives the backtrack additions at nodes at or above `root` (exact: add these
   *  threads as they are; reopen: take them out of the node's sleep set first, checkWakes). */
  foreign: ((depth: number, threads: number, exact: boolean, reopen?: boolean) => void) | null = null;
  init: Choice[] = [];
  private cpos = 0;
  /** Events at index >= divergence are new in the current execution and need race analysis. */
  divergence = 0;
  /** Extra executions run to decide whether a race is reversible. */
  probes = 0;
  /** Field footprints: inherited sleepers re-opened because a step changed what they read. */
  reopened = 0;
  /** Field footprints: whether checkWakes re-opens sleepers (tests turn it off and must lose outcomes). */
  reopenWoken = true;
  /** Probes answered from probeMemo instead of being run. */
  probeHits = 0;
  /** Probes answered from a guard state instead of a re-run (feasible(), "Probes" in the header). */
  guardAnswers = 0;
  /** How feasible() answers when a guard state can: "use" it; "probe" re-runs every time (tests'
   *  reference: no guard state is even taken); "check" does both and throws if they differ (tests). */
  guards: "use" | "probe" | "check" = "use";
  get guardStates(): boolean {
    return this.guards !== "probe";
  }
  /** Answers of the probes run so far in this search, by probeKey (see the header). */
  readonly probeMemo = new Map<string, boolean>();
  /** How a probe's schedule becomes a memo key; null = do not remember (tests swap in wrong keys). */
  probeKey: ProbeKey = probeKey;
  /** probeKey's scratch list of char codes. */
  readonly keyCodes: number[] = [];
  /** Root threads this shard owns (shard mode only). */
  private owned = 0;
  /** Optimal mode: how a reversed race enters a wakeup tree (tests swap in broken ones). */
  wakeupInsert: (kids: WuNode[], w: readonly WuEvent[]) => boolean = insert;
  /** Optimal mode: guided nodes whose every branch was asleep, started like source-DPOR (expected 0). */
  unguided = 0;
  /** Optimal mode: stable names of threads and objects for wakeup sequences (tests swap in wrong ones). */
  stable = new StableIds();
  /** Field footprints: the last execution's steps, whose records become sleepers' records in next().
   *  Only its step arrays, not the execution: that would keep its whole machine (kernel, threads)
   *  alive through the next execution, and every young-generation collection would copy it. */
  last: StepRecords | null = null;
  constructor(private readonly shard?: { index: number; count: number }, readonly optimal = false, readonly fields = false) {
    if (optimal && shard) throw new Error("internal: optimal DPOR does not shard (use work stealing or source-DPOR)");
    if (optimal && fields) throw new Error("internal: optimal DPOR does not take field footprints");
  }

  pickThread(x: Execution, enabled: number): number {
    const s = x.steps;
    this.cpos = 0;
    if (s < this.nodes.length) return this.nodes[s].thread;
    if (s === this.root) {
      const t = this.rootThread;
      if (!(enabled & (1 << t))) throw new Error(`internal: subtree root thread ${t} is not enabled at depth ${s}`);
      const sleepFoot = this.fields && this.rootSleepFoot?.size ? new Map(this.rootSleepFoot) : undefined;
      this.nodes.push({ thread: t, choices: [], enabled, backtrack: 1 << t, sleep: this.rootSleep, inherited: this.rootInherited & this.rootSleep, stops: this.rootStops, sleepFoot });
      return t;
    }
    let sleep = 0;
    let sleepFoot: Map<number, readonly number[]> | undefined;
    let woken: Map<number, readonly number[]> | undefined;
    if (s > 0) {
      const parent = this.nodes[s - 1];
      const o = x.stepObj[s - 1], m = x.stepMode[s - 1], f = x.stepFoot[s - 1];
      for (let r = parent.sleep & ~parent.stops; r; r &= r - 1) {
        const t = lowest(r);
        const p = x.threads[t].pending;
        if (p === null) continue;
        // A latch commutes with every step that can follow it (the header, "Latches").
        if (p.latch === true) {
          sleep |= 1 << t;
          const rec = parent.sleepFoot?.get(t);
          if (rec !== undefined) (sleepFoot ??= new Map()).set(t, rec);
          continue;
        }
        if (this.fields) {
          // Field footprints: the sleeper's step does what it did when it was explored (every step
          // since is independent of it, so none wrote a field it reads); compare that record.
          const rec = parent.sleepFoot?.get(t);
          if (rec !== undefined) {
            const done = x.canonOf(s - 1);
            // Counts (the header): a step that brought a count to its last value above zero
            // wakes every sleeper that updates that count, although updates commute.
            const crossing = x.stepCrossed !== null && crossesUpdate(x.stepCrossed.get(s - 1), rec);
            if (!crossing && !stepsConflict(-1, 0, done, -1, 0, rec)) {
              sleep |= 1 << t;
              (sleepFoot ??= new Map()).set(t, rec);
            } else if (parent.inherited & (1 << t) && (writesAny(done, rec) || wholeWriteWoken(x, done, rec))) {
              // (A crossing step updates a field the sleeper's record updates: writesAny holds.)
              (woken ??= new Map()).set(t, rec);
            }
            continue;
          }
          const [po, pm, pf] = x.pendingAccess(p);
          if (!stepsConflict(o, m, f, po, pm, pf)) sleep |= 1 << t;
          // A sleeper without a record (a shard's root thread) is woken by the first step on its
          // object, after which its split step may touch other fields: the same hole as above,
          // with nothing to compare, so it is always re-opened (an empty record never matches).
          // So is a declared read that reads all of memory or writes all of it depending on its run.
          else if (((p.split === true && p.obj?.fields != null) || readsAll(p)) && parent.inherited & (1 << t)) (woken ??= new Map()).set(t, []);
          continue;
        }
        const po = p.obj ? p.obj.id : -1, pm = p.obj ? modeCode(p.mode) : 0;
        if (!stepsConflict(o, m, f, po, pm, p.also === undefined ? null : footprintOf(p))) sleep |= 1 << t;
      }
    }
    let backtrack = 0;
    if (s === 0 && this.shard) {
      // Root full expansion, in thread order; a root thread owned by another shard is
      // put to sleep when its turn comes, exactly as if we had explored it (see next()).
      backtrack = enabled;
      this.owned = 0;
      let rank = 0;
      for (let m = enabled; m; m &= m - 1) if (rank++ % this.shard.count === this.shard.index) this.owned |= 1 << lowest(m);
    }
    // Source-DPOR starts a new node with one arbitrary non-sleeping enabled thread; optimal DPOR
    // with the wakeup subtree its parent's branch carries, if any (JACM Alg. 3, line 13).
    const avail = enabled & ~sleep;
    let wut: WuNode[] | undefined;
    if (this.optimal) {
      const g = s > 0 ? guideOf(this.nodes[s - 1]) : undefined;
      wut = g ? g.children.slice() : [];
    }
    if (!(s === 0 && this.shard) && avail && !wut?.length) backtrack = avail & -avail;
    const node: DNode = { thread: -1, choices: [], enabled, backtrack, sleep, inherited: sleep, stops: 0, wut, guides: wut && [], sleepFoot, woken, sids: wut && this.stable.threads(x) };
    this.nodes.push(node);
    let t = this.nextCandidate(node, s);
    // A guided node whose every branch was asleep or disabled (not expected: Alg. 3 never guides
    // into a sleeping thread) starts as source-DPOR does, with one thread.
    if (t < 0 && wut !== undefined && node.backtrack === 0 && avail) {
      this.unguided++;
      node.backtrack = avail & -avail;
      t = this.nextCandidate(node, s);
    }
    if (t < 0) return -1; // sleep-set blocked: every continuation is covered elsewhere
    node.thread = t;
    node.backtrack |= 1 << t;
    return t;
  }

  /**
   * Field footprints, after execution x (the header, "Wakes"): for each sleeper woken on x's path by
   * a write to what its record touched, if its next step in x has another footprint than the
   * record, or it took no step, explore its old step at the parent of the node that woke it.
   * Checked after every execution through that node, as later ones may take other steps.
   */
  checkWakes(x: Execution): void {
    if (!this.reopenWoken) return;
    for (let i = 1; i < this.nodes.length; i++) {
      const w = this.nodes[i].woken;
      if (w === undefined) continue;
      for (const [t, rec] of w) {
        let k = i;
        while (k < x.steps && x.stepThread[k] !== t) k++;
        if (k < x.steps && sameFoot(x.canonOf(k), rec)) continue;
        const parent = this.nodes[i - 1];
        w.delete(t);
        if (!(parent.inherited & (1 << t))) continue;
        if (i - 1 <= this.root) {
          // Subtree mode: that node is the coordinator's (steal.ts), which re-opens it there.
          parent.inherited &= ~(1 << t);
          this.foreign!(i - 1, 1 << t, true, true);
          this.reopened++;
          continue;
        }
        parent.sleep &= ~(1 << t);
        parent.inherited &= ~(1 << t);
        parent.backtrack |= 1 << t;
        this.reopened++;
      }
    }
  }

  /** Lowest thread still to explore at node s (skipping, and sleeping, other shards' root threads). */
  private nextCandidate(n: DNode, s: number): number {
    // Optimal mode: the wakeup tree's branches first, in the order they were inserted.
    while (n.wut && n.wut.length) {
      const sp = n.wut[0].ev.t;
      const taken = n.wut.filter((c) => c.ev.t === sp);
      n.wut = n.wut.filter((c) => c.ev.t !== sp);
      // A branch names its thread by stable id; a thread that does not exist here cannot be
      // followed (not expected: a spawn is dependent with its child's steps, so a sequence never
      // puts a child before its spawn), and falls back like a disabled one.
      const p = indexAt(n, sp);
      if (p >= 0 && n.sleep & (1 << p)) continue; // covered already
      if (p < 0 || !(n.enabled & (1 << p))) {
        n.backtrack |= n.enabled; // cannot follow it: the conservative fallback of analyse()
        continue;
      }
      n.guides = taken;
      return p;
    }
    for (;;) {
      const cand = n.backtrack & ~n.sleep & n.enabled;
      if (!cand) return -1;
      const t = lowest(cand);
      if (s === 0 && this.shard && !(this.owned & (1 << t))) {
        n.sleep |= 1 << t;
        continue;
      }
      return t;
    }
  }

  pickChoice(x: Execution, arity: number): number {
    const list = x.steps === 0 ? this.init : this.nodes[x.steps - 1].choices;
    const i = this.cpos++;
    if (i < list.length) return list[i].v;
    list.push({ v: 0, arity });
    return 0;
  }

  /** Next path; false when exhausted. */
  next(): boolean {
    this.cpos = 0;
    for (;;) {
      const i = this.nodes.length - 1;
      if (i < 0) {
        if (!advance(this.init)) return false;
        this.divergence = 0;
        return true;
      }
      const n = this.nodes[i];
      if (n.thread >= 0 && advance(n.choices)) {
        this.divergence = i + 1;
        return true;
      }
      if (i === this.root) {
        this.nodes.pop(); // a subtree is done with its root thread; the rest of that node is not ours
        return false;
      }
      if (n.thread >= 0) {
        n.sleep |= 1 << n.thread;
        // Field footprints: the record of the step just explored here (the last execution ran
        // n.thread at step i; every choose() variant of it made the same step).
        if (this.fields && this.last !== null && i < this.last.steps && this.last.stepThread[i] === n.thread) (n.sleepFoot ??= new Map()).set(n.thread, this.last.canonOf(i));
      }
      n.choices = [];
      if (n.guides) n.guides = [];
      const t = this.nextCandidate(n, i);
      n.thread = t;
      if (t >= 0) {
        n.backtrack |= 1 << t;
        this.divergence = i;
        return true;
      }
      this.nodes.pop();
    }
  }
}

/** What next() reads of the last execution under field footprints (DporScheduler.last). */
export interface StepRecords {
  readonly steps: number;
  readonly stepThread: readonly number[];
  canonOf(k: number): readonly number[];
}

function stepRecords(x: Execution): StepRecords {
  const arrays = { stepCanon: x.stepCanon, stepFoot: x.stepFoot, stepObj: x.stepObj, stepMode: x.stepMode };
  return { steps: x.steps, stepThread: x.stepThread, canonOf: (k) => canonAt(arrays, k) };
}

/**
 * Replays a reordering of recorded steps, then reports whether thread q is enabled. Threads go by
 * stable id (`th`, `q`: StableIds), translated to the probe's own indices: the reordering can
 * spawn in another order than the execution it comes from, which numbers the spawned threads
 * otherwise (by index, the probe ran other threads and answered for another one, and races of
 * spawned threads with blocking steps were dropped: dpor-soundness.test.ts, "probes name spawned threads").
 */
class ProbeScheduler implements Scheduler {
  result = true; // if the reordering cannot be replayed, err towards exploring
  /** The whole reordering was replayed (result is q's enabledness there, not the fallback). */
  reached = false;
  private cpos = 0;
  constructor(private readonly order: number[], private readonly th: readonly number[], private readonly sched: DporScheduler, private readonly q: number) {}
  pickThread(x: Execution, enabled: number): number {
    this.cpos = 0;
    const s = x.steps;
    if (s < this.order.length) {
      const t = this.sched.stable.indexIn(x, this.th[this.order[s]]);
      return t >= 0 && enabled & (1 << t) ? t : -1;
    }
    const q = this.sched.stable.indexIn(x, this.q);
    this.result = q < 0 || (enabled & (1 << q)) !== 0;
    this.reached = true;
    return -1;
  }
  pickChoice(x: Execution): number {
    const list = x.steps === 0 ? this.sched.init : this.sched.nodes[this.order[x.steps - 1]].choices;
    return list[this.cpos++]?.v ?? 0;
  }
}

/** Memo key of a probe: everything its execution depends on (see the header). */
export type ProbeKey = (order: readonly number[], th: readonly number[], sched: DporScheduler, q: number) => string | null;

/** Bound on remembered probe answers: past it the memo starts again (answers stay the same). */
const PROBE_MEMO_MAX = 100_000;

/**
 * The probe's whole schedule: the thread it asks about, the initial choose() values, then per
 * step the thread run and the choose() values made in it (what ProbeScheduler replays).
 */
export function probeKey(order: readonly number[], th: readonly number[], sched: DporScheduler, q: number): string {
  // One flat string of char codes: STEP before each step's thread, CHOICE before each choose()
  // value, every number n as the char n + VALUE (a number past MAX_CHAR as BIG and its decimal
  // digits). Built with `+=` the key was a rope of two heap strings per number, kept alive by
  // the memo: 155 k of them in S2's live heap after 7 000 executions, two thirds of it.
  const codes = sched.keyCodes;
  codes.length = 0;
  pushKeyNumber(codes, q);
  for (const c of sched.init) codes.push(CHOICE), pushKeyNumber(codes, c.v);
  for (const i of order) {
    codes.push(STEP);
    pushKeyNumber(codes, th[i]);
    for (const c of sched.nodes[i].choices) codes.push(CHOICE), pushKeyNumber(codes, c.v);
  }
  if (codes.length <= 4096) return String.fromCharCode.apply(null, codes);
  let key = "";
  for (let i = 0; i < codes.length; i += 4096) key += String.fromCharCode.apply(null, codes.slice(i, i + 4096));
  return key;
}

/** probeKey's markers and the char code of number 0. */
const STEP = 0, CHOICE = 1, BIG = 2, DIGIT = 3, VALUE = 16;
/** Numbers up to this are one char each (below the surrogates, whatever they are). */
const MAX_CHAR = 0xd7ff - VALUE;

function pushKeyNumber(codes: number[], n: number): void {
  if (n >= 0 && n <= MAX_CHAR && (n | 0) === n) codes.push(n + VALUE);
  else {
    codes.push(BIG);
    for (const d of String(n)) codes.push(DIGIT + d.charCodeAt(0));
    codes.push(BIG);
  }
}

/** choose() values made in node n's step, as a wakeup event's `ch`. */
const choicesOf = (n: DNode): string => n.choices.map((c) => c.v).join(",");

/** Optimal mode: the wakeup subtree for the step just taken at node n with its current choose() values. */
function guideOf(n: DNode): WuNode | undefined {
  if (!n.guides?.length) return undefined;
  const ch = choicesOf(n);
  const match = n.guides.filter((g) => g.ev.ch === null || g.ev.ch === ch);
  if (match.length <= 1) return match[0];
  return { ev: match[0].ev, children: match.flatMap((g) => g.children) };
}

function advance(list: Choice[]): boolean {
  while (list.length && list[list.length - 1].v + 1 >= list[list.length - 1].arity) list.pop();
  if (!list.length) return false;
  list[list.length - 1].v++;
  return true;
}

/** The mode in which footprint f touches object o, -1 if it does not (each object appears once). */
function modeIn(f: readonly number[], o: number): number {
  for (let i = 0; i < f.length; i += 2) if (f[i] === o) return f[i + 1];
  return -1;
}

/** Do footprints f and g name the same objects with the same modes? */
function sameFoot(f: readonly number[], g: readonly number[]): boolean {
  if (f.length !== g.length) return false;
  for (let i = 0; i < f.length; i += 2) if (modeIn(g, f[i]) !== f[i + 1]) return false;
  return true;
}

/** Counts: does record `rec` update one of the fields a step brought to its threshold (`crossed`)? */
function crossesUpdate(crossed: readonly number[] | undefined, rec: readonly number[]): boolean {
  if (crossed === undefined) return false;
  for (const f of crossed) if (modeIn(rec, f) === MODE_UPDATE) return true;
  return false;
}

/** Does footprint f write or update anything footprint g touches? */
function writesAny(f: readonly number[], g: readonly number[]): boolean {
  for (let i = 0; i < f.length; i += 2) if ((f[i + 1] === MODE_WRITE || f[i + 1] === MODE_UPDATE) && touches(-1, g, f[i])) return true;
  return false;
}

/**
 * Field footprints: does `done` (a canonical footprint) write or update some field, while record
 * `rec` writes the whole of a recorded object? Such a record is a step that ran as a whole-object
 * write though its footprint follows what it reads (a declared read that wrote a field in that
 * state, a split step that tripped there), and any field it read may be one `done` changed: after
 * it, the step may run as a read of the object or on a few of its fields, which no longer
 * conflicts with what it raced before, as a split step woken by a write to what it read
 * (checkWakes). Found by review, December 2026 (test/explorer/field-foot-reads.test.ts).
 */
function wholeWriteWoken(x: Execution, done: readonly number[], rec: readonly number[]): boolean {
  if (fieldMutations.noWholeWriteWake) return false;
  let whole = false;
  for (let i = 0; i < rec.length && !whole; i += 2) if (rec[i] < FIELD_MIN && rec[i + 1] === MODE_WRITE && x.objects[rec[i]]?.fields != null) whole = true;
  if (!whole) return false;
  for (let i = 0; i < done.length; i += 2) if (done[i] >= FIELD_MIN && (done[i + 1] === MODE_WRITE || done[i + 1] === MODE_UPDATE)) return true;
  return false;
}

/** Does footprint f write object o? */
function writesIn(f: readonly number[], o: number): boolean {
  return modeIn(f, o) === MODE_WRITE;
}

/** A buffer of at least `size` ints, shared by every analyse() call of one search; contents are garbage. */
function scratchInts(sched: DporScheduler, size: number): Int32Array {
  if (sched.scratch.length < size) sched.scratch = new Int32Array(Math.max(size, 2 * sched.scratch.length));
  return sched.scratch;
}

/**
 * Race analysis of one execution (Algorithm 2's "foreach e ⋖ next" loop, done for
 * the new suffix of the execution after it ran). Vector clocks, flat to keep the
 * garbage collector out of the hot path: clk[k * T + t] = number of thread t's steps
 * that happen-before-or-equal step k.
 */
/**
 * Deliberate mutations, for the soundness tests' tests of themselves only (test/explorer/
 * dpor-soundness.test.ts, latches): readEdges orders a latch as the read it is declared (after
 * every earlier change of its object, and every later change after it) but still reverses no
 * race with it; that hides races of the steps after it and must lose outcomes.
 */
export const latchMutations = { readEdges: false };

export function analyse(x: Execution, sched: DporScheduler): void {
  const n = x.steps;
  const T = x.threads.length;
  const th = x.stepThread, ob = x.stepObj, md = x.stepMode, ft = x.stepFoot;
  const nObj = x.objects.length;
  // Field footprints: each recorded object's anyWrite pseudo-field, which nothing writes: a whole
  // write of the object stands for a write of it here (record), so its lists are cut there.
  const anyOf = x.anyWriteOf;
  // The three arrays that grow with the execution are views of one scratch buffer reused by
  // every call (analyse runs once per execution and is never re-entered: probes do not analyse).
  const buf = scratchInts(sched, n * T + n + nObj);
  const clk = buf.subarray(0, n * T).fill(0);
  const local = buf.subarray(n * T, n * T + n).fill(0); // 1-based index of step k within its thread
  const lastWrite = buf.subarray(n * T + n, n * T + n + nObj).fill(-1);
  const tclk: Int32Array[] = []; // current clock per thread
  const count = new Int32Array(T);
  const lastOf = new Int32Array(T).fill(-1); // last step index per thread
  // Per-object lists, null until the object's first event. Filled with null rather than left with
  // holes: a store into a holey array checks the prototype chain, which lockdown() froze, so
  // in the sandbox each such store left V8's fast path (about ten times slower).
  const perObject = (): (number[] | null)[] => new Array<number[] | null>(nObj).fill(null);
  const objEvents = perObject();
  /** Per object, its events that write or update it (scanMulti: the only ones a read can race). */
  const objChanges = perObject();
  /** Per object that has been updated, its events that read it (or touch it "local", which counts
   *  as a read) or write it: scanMulti's list for a step that updates it, the only events an
   *  update can race there. Made at the object's first update, so most objects never have it. */
  const objNonUpdates = perObject();
  const nonUpdatesOf = (evs: number[] | null, o: number): number[] => {
    const out: number[] = [];
    if (evs !== null) for (const e of evs) if ((ft[e] === null ? md[e] : modeIn(ft[e] as number[], o)) !== MODE_UPDATE) out.push(e);
    return out;
  };
  const NO_EVENTS: number[] = [];
  const readsSince = perObject();
  // Commutative updates (MODE_UPDATE) since the object's last write.
  const updatesSince = perObject();
  const prevBuf = new Int32Array(T), seen = new Int32Array(T); // scratch, scan() is not re-entrant
  // scanMulti's per-object scratch (one flag, head and bound per object of the footprint), reused
  // by every call of this analysis: allocating them per step was a tenth of its cost.
  let mClosed = new Uint8Array(16), mHead = new Int32Array(16), mLow = new Int32Array(16);
  const mLists: number[][] = [];
  const spawnAt = (t: number): number => x.threads[t].spawnStep;
  const clockOf = (t: number): Int32Array => {
    let c = tclk[t];
    if (!c) {
      const sp = spawnAt(t);
      // A spawned thread starts knowing everything its parent knew at the spawn.
      c = tclk[t] = sp >= 0 && sp < n ? clk.slice(sp * T, sp * T + T) : new Int32Array(T);
    }
    return c;
  };
  /** Step j happens-before-or-equals the point whose clock is c. */
  const hb = (j: number, c: Int32Array): boolean => c[th[j]] >= local[j];
  /** Step j happens-before-or-equals step i. */
  const hbStep = (j: number, i: number): boolean => clk[i * T + th[j]] >= local[j];
  const join = (c: Int32Array, k: number): void => {
    for (let u = 0, b = k * T; u < T; u++) if (clk[b + u] > c[u]) c[u] = clk[b + u];
  };

  /** Per step, the stable id of its thread (StableIds); th itself when no thread was spawned. */
  let sthCache: readonly number[] | null = null;
  const stableSteps = (): readonly number[] => {
    if (sthCache === null) sthCache = x.threads.some((t) => t.parent >= 0) ? th.map((t) => sched.stable.thread(x, t)) : th;
    return sthCache;
  };
  /**
   * Is q's next step k (on o) enabled after pre(j).v? When v does not touch o (o's state, hence
   * enabledness, is as at pre(j)): recorded if q has not moved, else from o's guard state before j
   * (guardAnswer); otherwise decided by re-running that prefix (choose() values are per event, so
   * they carry over).
   */
  const feasible = (j: number, v: number[], q: number, o: number, k: number): boolean => {
    let fromGuard: boolean | undefined;
    if (!v.some((i) => touches(ob[i], ft[i], o))) {
      // (The cheap answer needs q to have existed at pre(j): a thread spawned later has no recorded enabledness there.)
      if (lastOf[q] < j && spawnAt(q) < j) return (x.enabledBefore[j] & (1 << q)) !== 0;
      fromGuard = guardAnswer(j, q, o, k);
      if (fromGuard !== undefined && sched.guards === "use") {
        sched.guardAnswers++;
        return fromGuard;
      }
    }
    const order: number[] = [];
    for (let i = 0; i < j; i++) order.push(i);
    order.push(...v);
    // By stable id: the probe's schedule and its memo key must not depend on x's spawn order.
    const sth = stableSteps(), sq = sched.stable.thread(x, q);
    const key = sched.probeKey(order, sth, sched, sq);
    if (key !== null) {
      const known = sched.probeMemo.get(key);
      if (known !== undefined) {
        sched.probeHits++;
        return known;
      }
    }
    const probe = new ProbeScheduler(order, sth, sched, sq);
    new Execution(x.model, probe, x.maxSteps).run();
    sched.probes++;
    if (fromGuard !== undefined && probe.reached && fromGuard !== probe.result)
      throw new ExplorerError(`internal: DPOR's guard state of ${x.objects[o].type} "${x.objects[o].name}" says ${x.threads[q].name}'s step ${fromGuard ? "is" : "is not"} enabled before step ${j}, re-running the prefix says the opposite: its guardState() leaves out something an enabled() of that object reads.`);
    if (key !== null) {
      if (sched.probeMemo.size >= PROBE_MEMO_MAX) sched.probeMemo.clear();
      sched.probeMemo.set(key, probe.result);
    }
    return probe.result;
  };

  /**
   * feasible()'s answer from a guard state, when it has one (undefined: re-run). No step of v
   * touches o, so after pre(j).v the object is as it was just before j; when j is a step on o whose
   * guard state was taken, q's next op (k's, or its pending one) is asked with that state put back.
   * It is the op the re-run would ask: q's earlier steps are all in pre(j).v (one after j that
   * happened after j would order k after j too) and see the same values, and enabled() reads only
   * its object (effect.ts Op.enabled).
   */
  const guardAnswer = (j: number, q: number, o: number, k: number): boolean | undefined => {
    const states = x.stepGuardState;
    if (states === null || ob[j] !== o) return undefined;
    const s = states[j];
    if (s === NO_GUARD_STATE) return undefined;
    const op = k < n ? (x.stepOp as Op[])[k] : x.threads[q].pending;
    if (op === null || op.enabled === undefined || op.obj !== x.objects[o]) return undefined;
    return x.enabledIn(op, s);
  };

  const scan = (q: number, o: number, m: number, f: number[] | null, prevC: Int32Array, k: number, blocking: boolean): void => {
    if (f !== null) return scanMulti(q, o, m, f, prevC, k, blocking);
    const evs = objEvents[o];
    if (!evs) return;
    seen.set(prevC);
    for (let a = evs.length - 1; a >= 0; a--) {
      const j = evs[a];
      // j's mode on o: its primary mode, or (a multi-object step) its mode on o in its footprint.
      const wj = ft[j] === null ? md[j] === MODE_WRITE : writesIn(ft[j] as number[], o);
      if (th[j] === q || !stepsConflict(o, m, null, ob[j], md[j], ft[j])) {
        if (th[j] === q && wj) return;
        continue;
      }
      if (hb(j, seen)) {
        if (wj) return;
        continue;
      }
      const v = notdep(j, k);
      // A race can only be reversed if q's step is enabled after pre(j).notdep(j).
      // If not (release -> acquire by the holder), skip it WITHOUT joining its
      // clock and keep scanning back for the step that really competes.
      if (blocking && !feasible(j, v, q, o, k)) continue;
      addBacktrack(j, v, q, o, m, null, prevC, k);
      join(seen, j);
      if (wj) return;
    }
  };

  /**
   * scan() for a step with a footprint f of several objects: the events of all its objects,
   * latest first. An object is closed once a write to it is known to happen before the step (or
   * before a race already found): every earlier event on it happens before that write, so it is
   * no immediate race; the scan ends when every object is closed.
   */
  const scanMulti = (q: number, o: number, m: number, f: number[], prevC: Int32Array, k: number, blocking: boolean): void => {
    seen.set(prevC);
    const nf = f.length >> 1;
    // One flag per object of f (a field footprint can name more than 31 objects).
    if (mClosed.length < nf) {
      mClosed = new Uint8Array(2 * nf);
      mHead = new Int32Array(2 * nf);
      mLow = new Int32Array(2 * nf);
    }
    const closed = mClosed.fill(0, 0, nf), head = mHead, low = mLow, lists = mLists;
    lists.length = 0;
    let open = nf;
    // The objects' event lists (each ascending) merged latest first, lazily: a closed object's
    // list is never read again (its events are skipped below anyway, as touching a closed
    // object), so the scan reads only as far back as the races it looks for. Merging every list
    // and sorting it first cost a seventh of a fork search's CPU (mni, field footprints). Two
    // cuts that leave every race and every probe as they were, only fewer events to step over:
    // - an object the step reads is walked through its writes and updates only, and one it
    //   updates through its reads (and local touches) and writes only: an event left out of
    //   that list does not conflict with the step there, so it races only through another
    //   object of f where it conflicts, and it is in that object's list (every kind of list
    //   keeps the events that conflict with its kind of step); if it conflicts nowhere it neither
    //   races nor closes an object of f (a write of one would conflict), and its clock reaches
    //   `seen` only through a race. (Every split write updates its object's anyWrite: walking
    //   the other updates took a fork search's race scan from 3 % to 7 % of its time.);
    // - no list is walked below the object's last write (unless the step blocks): that write is
    //   a race (joined into `seen`), happens before, or touches a closed object (then it happens
    //   before that object's closing write, which happens before `seen`, as every closing write
    //   does: by q, happened before, or joined after its race); every earlier event on the
    //   object happens before it, so none is a race, and the objects they would close have only
    //   such events left. A blocking step skips an infeasible race without joining it and must
    //   look further back.
    for (let e = 0; e < nf; e++) {
      const oe = f[2 * e], me = f[2 * e + 1];
      lists.push((me === MODE_WRITE ? objEvents[oe] : me === MODE_UPDATE ? (objNonUpdates[oe] ?? objEvents[oe]) : objChanges[oe]) ?? NO_EVENTS);
      head[e] = lists[e].length - 1;
      low[e] = blocking ? -1 : lastWrite[oe];
    }
    // Close every object of f that step j writes.
    const closeWrites = (j: number): void => {
      for (let e = 0; e < nf; e++) {
        if (closed[e]) continue;
        const oe = f[2 * e];
        const wj = ft[j] === null ? ob[j] === oe && md[j] === MODE_WRITE : writesIn(ft[j] as number[], oe);
        if (wj) {
          closed[e] = 1;
          open--;
        }
      }
    };
    while (open > 0) {
      let j = -1;
      for (let e = 0; e < nf; e++) if (!closed[e] && head[e] >= 0 && lists[e][head[e]] > j && lists[e][head[e]] >= low[e]) j = lists[e][head[e]];
      if (j < 0) break;
      // j may be on several of f's objects: taken once.
      for (let e = 0; e < nf; e++) if (!closed[e] && head[e] >= 0 && lists[e][head[e]] === j) head[e]--;
      let onClosed = false;
      for (let e = 0; e < nf && !onClosed; e++) if (closed[e] && touches(ob[j], ft[j], f[2 * e])) onClosed = true;
      if (onClosed) continue;
      if (th[j] === q) {
        closeWrites(j);
        continue;
      }
      if (!stepsConflict(o, m, f, ob[j], md[j], ft[j])) continue;
      if (hb(j, seen)) {
        closeWrites(j);
        continue;
      }
      const v = notdep(j, k);
      if (blocking && !feasible(j, v, q, o, k)) continue;
      addBacktrack(j, v, q, o, m, f, prevC, k);
      join(seen, j);
      closeWrites(j);
    }
  };

  /** Optimal mode: races found, whose wakeup sequences are inserted after the whole analysis. */
  const deferred: { j: number; k: number; qe: WuEvent; initials: number; obj: number; q: number }[] = [];

  /** notdep(j, E) restricted to steps before k: steps after j that do not happen after j. */
  const notdep = (j: number, k: number): number[] => {
    const v: number[] = [];
    for (let i = j + 1; i < k; i++) if (!hbStep(j, i)) v.push(i);
    return v;
  };

  // Source-DPOR: add one initial of notdep(j).e to backtrack(pre(j)) unless one is there already.
  const addBacktrack = (j: number, v: number[], q: number, o: number, m: number, f: number[] | null, prevC: Int32Array, k: number, global = false): void => {
    let initials = 0;
    let withEvents = 0; // threads that have a step in notdep
    for (let a = 0; a < v.length; a++) {
      const i = v[a], t = th[i];
      if (withEvents & (1 << t)) continue;
      withEvents |= 1 << t;
      let initial = true;
      for (let b = 0; b < a && initial; b++) if (hbStep(v[b], i)) initial = false;
      if (initial) initials |= 1 << t;
    }
    if (!(withEvents & (1 << q))) {
      // A global (stopping) step conflicts with every step of v.
      let initial = !global || v.length === 0;
      // Field footprints: q's step after pre(j).v need not be k (the header, "Initials").
      if (sched.fields && v.length > 0) initial = false;
      for (const i of v) if (hb(i, prevC) || stepsConflict(o, m, f, ob[i], md[i], ft[i])) { initial = false; break; }
      if (initial) initials |= 1 << q;
    }
    // A node at or above a subtree's root belongs to the coordinator (steal.ts), which filters the same way.
    if (j <= sched.root) return sched.foreign!(j, initials, false);
    const node = sched.nodes[j];
    if (node.wut) {
      const qe: WuEvent = k < n ? { ...evAt(k), g: global } : pendingEvent(q, o, m, f, global);
      // Inserted once the whole execution is analysed: the sequence is notdep(j) over ALL of x (below).
      deferred.push({ j, k, qe, initials, obj: global ? -1 : raceObject(j, o, m, f), q });
      return;
    }
    if (initials & node.backtrack) return;
    if (initials & node.sleep) return; // a sleeping initial: its traces are covered already
    const ok = initials & node.enabled;
    const before = node.backtrack;
    node.backtrack |= ok ? 1 << lowest(ok) : node.enabled;
    if (raceLog && node.backtrack !== before) raceLog.add(x, global ? -1 : raceObject(j, o, m, f), th[j], q, j, raceK);
  };

  /** Debug (race-log.ts): the step whose races are being scanned. */
  let raceK = -1;

  // Optimal mode: wakeup events name threads and objects by stable ids (StableIds).
  const ids = sched.stable;
  /** Per step: the stable id of the thread it spawned, -1 none (built on first use). */
  let spawned: Int32Array | null = null;
  const spawnedBy = (i: number): number => {
    if (spawned === null) {
      spawned = new Int32Array(n).fill(-1);
      for (let t = 0; t < T; t++) {
        const sp = spawnAt(t);
        if (sp >= 0 && sp < n) spawned[sp] = ids.thread(x, t);
      }
    }
    return spawned[i];
  };
  /** Step i of x as a wakeup-tree event. */
  const evAt = (i: number): WuEvent => ({ t: ids.thread(x, th[i]), o: ids.object(x, ob[i]), m: md[i], f: ids.foot(x, ft[i]), g: false, ch: choicesOf(sched.nodes[i]), sp: spawnedBy(i) });
  /** Thread q's pending step (o, m, f: ids of x), which never ran, as an event. */
  const pendingEvent = (q: number, o: number, m: number, f: number[] | null, g: boolean): WuEvent => {
    const p = x.threads[q].pending;
    return { t: ids.thread(x, q), o: ids.object(x, o), m, f: ids.foot(x, f), g, ch: null, sp: p !== null && p.obj === null && p.kind === "spawn" ? ids.nextChild(x, q) : -1 };
  };

  /** Thread s's next event after pre(j): its first step from j on, else its pending step (null: none). */
  const nextEvent = (s: number, j: number): WuEvent | null => {
    for (let i = j; i < n; i++) if (th[i] === s) return evAt(i);
    const p = x.threads[s].pending;
    if (p === null) return null;
    return pendingEvent(s, p.obj ? p.obj.id : -1, p.obj ? modeCode(p.mode) : 0, p.also === undefined ? null : footprintOf(p), false);
  };

  /**
   * Optimal DPOR (JACM Alg. 3, lines 5-7): the race reversed is w = notdep(j).e', with e' = qe, the
   * later step of the race (a step of x, or a pending step that never ran). Unless a thread asleep at pre(j) is a weak
   * initial of w (its traces are explored already), insert w into the wakeup tree of node j.
   * Threads added to `backtrack` by a fallback (not from the tree) still cover their initials,
   * as in source-DPOR.
   */
  const insertWakeup = (j: number, node: DNode, w: WuEvent[], initials: number, obj: number, q: number): void => {
    const pendingBacktrack = node.backtrack & ~node.sleep & ~(1 << node.thread);
    if (initials & pendingBacktrack) return;
    for (let r = node.sleep; r; r &= r - 1) {
      const s = lowest(r);
      const e = nextEvent(s, j);
      if (e !== null && weakInitial(e, w)) return;
    }
    const changed = sched.wakeupInsert(node.wut!, w);
    if (changed && raceLog) raceLog.add(x, obj, th[j], q, j, raceK);
  };

  /** Debug (race-log.ts): the object step j and q's step (o, m, f) race on. */
  const raceObject = (j: number, o: number, m: number, f: number[] | null): number => {
    const mine = f ?? [o, m];
    for (let e = 0; e < mine.length; e += 2) if (stepsConflict(mine[e], mine[e + 1], null, ob[j], md[j], ft[j])) return mine[e];
    return o;
  };

  const stopRaces = (sIdx: number): void => {
    const q = th[sIdx], node = sched.nodes[sIdx];
    // (a) another thread's enabled pending step before the stop
    let others = 0;
    for (let r = 0; r < T; r++) {
      if (r === q || x.threads[r].pending === null || !(node.enabled & (1 << r)) || node.sleep & (1 << r)) continue;
      others |= 1 << r;
    }
    if (sIdx <= sched.root) sched.foreign!(sIdx, others, true);
    else if (node.wut) {
      // Optimal: each such step r is a race reversed by running r's step at sIdx, then the stop.
      // The stop is part of the sequence: whether a step ends the execution depends on the values
      // it reads, so the tree must not count a branch that merely commutes with r's step (and
      // may never stop) as covering it.
      const stop: WuEvent = { ...evAt(sIdx), g: true };
      for (let r = others; r; r &= r - 1) insertWakeup(sIdx, node, [nextEvent(lowest(r), sIdx)!, stop], 0, -1, lowest(r));
    } else {
      if (raceLog) for (let r = others & ~node.backtrack; r; r &= r - 1) raceLog.add(x, -1, q, lowest(r));
      node.backtrack |= others;
    }
    // (b) the stop before another thread's concurrent step j
    for (let j = sIdx - 1; j >= 0; j--) {
      if (th[j] === q || hbStep(j, sIdx)) continue;
      const v = notdep(j, sIdx);
      if (x.stepBlocking[sIdx] && !feasible(j, v, q, ob[sIdx], sIdx)) continue;
      addBacktrack(j, v, q, -1, 0, null, prevBuf, sIdx, true);
    }
  };

  /** Step k's access (o, m) to one object: happens-after edges, then bookkeeping. Objects of a
   *  footprint are distinct, so doing them one at a time is the same as all at once. */
  const record = (k: number, c: Int32Array, o: number, m: number): void => {
    const lw = lastWrite[o];
    if (lw >= 0) join(c, lw);
    const rs = readsSince[o], us = updatesSince[o];
    if (m === MODE_WRITE) {
      if (rs) for (const r of rs) join(c, r);
      if (us) for (const u of us) join(c, u);
      lastWrite[o] = k;
      readsSince[o] = null;
      updatesSince[o] = null;
      // Every step on the anyWrite pseudo-field also reads its object, so every earlier one
      // happens before this whole write of the object, as before a write of the pseudo-field:
      // without the cut, each split write walked back over every earlier one (found by review).
      if (anyOf.size > 0) {
        const a = anyOf.get(o);
        if (a !== undefined && a < nObj) {
          lastWrite[a] = k;
          readsSince[a] = null;
          updatesSince[a] = null;
        }
      }
    } else if (m === MODE_UPDATE) {
      // Updates commute with each other (effect.ts): ordered after the reads, not the updates.
      if (rs) for (const r of rs) join(c, r);
      if (us) us.push(k);
      else updatesSince[o] = [k];
    } else {
      if (us) for (const u of us) join(c, u);
      if (rs) rs.push(k);
      else readsSince[o] = [k];
    }
    const evs = objEvents[o];
    if (evs) evs.push(k);
    else objEvents[o] = [k];
    if (m === MODE_WRITE || m === MODE_UPDATE) {
      const chs = objChanges[o];
      if (chs) chs.push(k);
      else objChanges[o] = [k];
    }
    if (m === MODE_UPDATE) {
      if (objNonUpdates[o] === null) objNonUpdates[o] = nonUpdatesOf(objEvents[o], o);
    } else {
      const nus = objNonUpdates[o];
      if (nus !== null) nus.push(k);
    }
  };

  // Latches (the header): marked per step, when the execution ran any.
  const latchAt = x.latchSteps.length === 0 ? null : new Uint8Array(n);
  if (latchAt !== null) for (const k of x.latchSteps) if (k < n) latchAt[k] = 1;
  for (let k = 0; k < n; k++) {
    if (raceLog) raceK = k;
    const t = th[k], o = ob[k], m = md[k], f = ft[k];
    const c = clockOf(t);
    if (latchAt !== null && latchAt[k] === 1) {
      // After the step that enabled it (the one just before the first point, since its thread's
      // last step, where it was enabled), and after nothing else; no race either way.
      if (latchMutations.readEdges) {
        record(k, c, o, m);
        // ...but never a race: out of the lists scan() looks for candidates in.
        (objEvents[o] as number[]).pop();
        const nus = objNonUpdates[o];
        if (nus !== null && nus[nus.length - 1] === k) nus.pop();
      } else {
        let i = lastOf[t] + 1;
        while (i < k && !(x.enabledBefore[i] & (1 << t))) i++;
        if (i > 0 && i - 1 > lastOf[t]) join(c, i - 1);
      }
    } else if (f !== null) {
      if (k >= sched.divergence) {
        prevBuf.set(c);
        scan(t, o, m, f, prevBuf, k, x.stepBlocking[k]);
      }
      for (let e = 0; e < f.length; e += 2) record(k, c, f[e], f[e + 1]);
    } else if (o >= 0) {
      if (k >= sched.divergence) {
        prevBuf.set(c);
        scan(t, o, m, null, prevBuf, k, x.stepBlocking[k]);
      }
      record(k, c, o, m);
    }
    c[t] = ++count[t];
    local[k] = c[t];
    lastOf[t] = k;
    clk.set(c, k * T);
  }
  // An execution cut by a finding with { end: true }: the cut is not a commutable step,
  // so treat the stopping step as dependent with every step of every other thread —
  // other threads' steps may come before it, and it may come before theirs. Without
  // this the final state and the other threads' findings at the cut would depend on
  // the one interleaving explored.
  if (x.status === "stopped" && n > 0) {
    sched.nodes[n - 1].stops |= 1 << th[n - 1];
    stopRaces(n - 1);
  }
  // Pending steps of unfinished threads race too (deadlocks, early ends, and sleep-set-blocked
  // runs). A pruned run stops where every enabled thread sleeps, which covers their
  // continuations, not those of a thread the prefix disabled: T1's `unflag` before T2's
  // `await flag` was a race no later step showed (test/explorer/pending-race.test.ts; found by
  // generated programs with a split step that takes a second object, December 2026).
  if (x.status === "deadlock" || x.status === "stopped" || x.status === "step-bound" || x.status === "pruned") {
    // In a pruned run only the disabled threads: an enabled one sleeps, its races were found in
    // the execution that explored it, and under field footprints its pending split op would count
    // as a write of all of memory and race with every step since (a reader's review).
    const asleep = x.status === "pruned" ? (sched.nodes[n]?.enabled ?? 0) : 0;
    for (let q = 0; q < x.threads.length; q++) {
      const p = x.threads[q].pending;
      if (p === null || asleep & (1 << q)) continue;
      // Under field footprints a pending step on a recorded object writes all of it (pendingAccess).
      const [po, pm, pf] = x.pendingAccess(p);
      if (!p.obj && pf === null) continue;
      prevBuf.set(clockOf(q));
      scan(q, po, pm, pf, prevBuf, n, p.enabled !== undefined);
    }
  }
  // Optimal DPOR (JACM Alg. 3, line 6): the sequence that reverses race (j, k) is notdep(j, E).e'
  // with notdep over the WHOLE execution E: every step after j that does not happen after j,
  // those after k included, then k's event. Cut at k (as source-DPOR's initials may be), the
  // sequence forgets how E ordered the later independent steps, a leaf that only weakly matches
  // it is taken as covering it, and traces were lost: lastzero(4) with its threads declared
  // T0 T1 T4 T2 T3 explored 24 of its 28 traces (optimal.test.ts). All clocks are known only now.
  for (const d of deferred) {
    const v: number[] = [];
    for (let i = d.j + 1; i < n; i++) if (i !== d.k && !hbStep(d.j, i)) v.push(i);
    insertWakeup(d.j, sched.nodes[d.j], [...v.map(evAt), d.qe], d.initials, d.obj, d.q);
  }
}

/** Everything the scheduler learns from an execution before next(): its races, and under field
 *  footprints the woken sleepers to re-open and the step records of the next sleep sets. Every
 *  search that drives a DporScheduler (this file's, steal.ts's units) calls this. */
export function analyseRun(x: Execution, sched: DporScheduler): void {
  analyse(x, sched);
  if (sched.fields) {
    sched.checkWakes(x);
    sched.last = stepRecords(x);
  }
}

export const exploreDpor: Explore = (ctx) => exploreDporWith(ctx);

/** DPOR over field footprints that never re-opens a woken sleeper (tests: the known lost traces must come back). */
export const exploreFieldsWithoutWakes: Explore = (ctx) => exploreDporWith({ ...ctx, config: { ...ctx.config, fields: true } }, undefined, undefined, undefined, false);

/** Optimal DPOR with the wakeup-tree insertion replaced (tests: a broken insertion must be caught). */
export const exploreOptimalInsert = (ins: DporScheduler["wakeupInsert"]): Explore => (ctx) => exploreDporWith({ ...ctx, config: { ...ctx.config, optimal: true } }, undefined, ins);

/** DPOR whose probes use guard states as `guards` says (DporScheduler.guards; tests compare the three). */
export const exploreDporGuards = (guards: DporScheduler["guards"], key?: ProbeKey): Explore => (ctx) => exploreDporWith(ctx, key, undefined, undefined, true, guards);

/**
 * Debug: DPOR_GUARDS=check (or probe) in the environment of an unconfined run sets every DPOR
 * search's DporScheduler.guards (a whole book checked against the re-runs: `build --unconfined`).
 * A confined chapter has no `process`: "use".
 */
const GUARDS_FROM_ENV = ((): DporScheduler["guards"] => {
  try {
    const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.DPOR_GUARDS;
    return v === "check" || v === "probe" ? v : "use";
  } catch {
    return "use"; // the sandbox's `process` getter throws
  }
})();

/** Optimal DPOR with the stable names replaced (tests: naming spawned threads by index must be caught). */
export const exploreOptimalIds = (ids: () => StableIds): Explore => (ctx) => exploreDporWith({ ...ctx, config: { ...ctx.config, optimal: true } }, undefined, undefined, ids());

function exploreDporWith(ctx: SearchContext, key?: ProbeKey, ins?: DporScheduler["wakeupInsert"], ids?: StableIds, reopen = true, guards = GUARDS_FROM_ENV): SearchOutcome {
  const shard = ctx.config.shard;
  // Optimal DPOR (wakeup trees) for a whole tree; a shard keeps source-DPOR (its root is fully
  // expanded anyway), and so does a search with field footprints unless it asks for both (refused).
  const optimal = !shard && (ctx.config.optimal ?? (DEFAULT_OPTIMAL && ctx.config.fields !== true && !DEFAULT_FIELDS)) === true;
  const fields = (ctx.config.fields ?? (DEFAULT_FIELDS && !optimal)) === true;
  if (optimal && fields) throw new ExplorerError(`search.fields (field footprints) does not combine with search.optimal: wakeup trees compare steps by per-execution object ids. Use one of them.`);
  const sched = new DporScheduler(shard, optimal, fields);
  if (key) sched.probeKey = key;
  if (ins) sched.wakeupInsert = ins;
  if (ids) sched.stable = ids;
  sched.reopenWoken = reopen;
  sched.guards = guards;
  const coverage = { kind: "exhaustive", reduction: optimal ? "optimal-DPOR" : "source-DPOR", ...(fields ? { footprints: "fields" as const } : {}), ...(shard ? { shard: `${shard.index + 1}/${shard.count}` } : {}) } as const;
  const done = (complete: boolean) => {
    if (raceLog) raceLog.print(`[dpor] complete ${complete}, probes ${sched.probes}, answered by guard states ${sched.guardAnswers}, re-opened sleepers ${sched.reopened}`);
    return { complete, coverage };
  };
  for (;;) {
    if (ctx.outOfBudget()) return done(false);
    const x = new Execution(ctx.model, sched, ctx.maxSteps).run();
    ctx.ran(x);
    analyseRun(x, sched);
    // Pruned = sleep-set blocked: equivalent to an execution explored elsewhere.
    if (x.status !== "pruned" && !ctx.visit(x)) return done(false);
    if (!sched.next()) return done(true);
  }
}
