// Fewer preemptions by moving blocks of a witness's schedule (minimise.ts, for witnesses far
// beyond what preemption bounding can search, such as a seeded random walk's).
//
// A schedule is a sequence of blocks, each a run of steps of one thread. A preemption is a
// switch at a block boundary away from a thread that could have continued. Moving a block next
// to another block of its thread (later: in front of that thread's next block; earlier: right
// after its previous one) removes its switches if the result still runs and is still a witness.
// This is the move of Jalbert and Sen's trace simplification ("A Trace Simplification Technique
// for Effective Debugging of Concurrent Programs", FSE 2010), checked here by re-running the
// model rather than by reasoning about dependences: a move is kept only if the real execution it
// produces is a witness with fewer preemptions (or as many and fewer steps). So the result is
// always a real execution of the model; it is a local minimum, not the global one that
// preemption bounding finds.
//
// First, one run that usually takes off most of them (sameTraceFewerSwitches): the witness's own
// Mazurkiewicz trace, linearised with as few switches as a greedy pass finds. Every
// linearisation of a trace ends in the same state with the same findings when the footprints are
// right (what dpor.ts already relies on), and the run checks it anyway.
//
// Each thread keeps its own choose() values in order (the k-th choose() of a thread gets the
// value it had in the witness), so moving a block never changes what a thread decides.

import { stepsConflict } from "./effect.ts";
import { Execution, type Scheduler } from "./execution.ts";
import type { Model } from "./model.ts";

/** A witness as a plan: the thread of every step, and every thread's choose() values in order. */
export interface Plan {
  readonly threads: readonly number[];
  readonly choices: readonly (readonly number[])[];
}

/**
 * Runs a plan: each pick takes the first remaining planned step whose thread can run (so a step
 * planned while its thread waits is taken as soon as it can go); with none, the default thread.
 * Records the choose() values each thread took, which become the next plan's.
 */
class PlanScheduler implements Scheduler {
  private readonly queue: number[];
  private readonly used: number[] = [];
  readonly took: number[][] = [];
  constructor(private readonly plan: Plan) {
    this.queue = plan.threads.slice();
  }
  pickThread(x: Execution, enabled: number): number {
    for (let i = 0; i < this.queue.length; i++) {
      const t = this.queue[i];
      if (t < 31 && enabled & (1 << t)) {
        this.queue.splice(i, 1);
        return t;
      }
    }
    return x.defaultThread(enabled);
  }
  pickChoice(x: Execution, arity: number): number {
    const t = x.currentThread();
    const k = this.used[t] ?? 0;
    this.used[t] = k + 1;
    const planned = this.plan.choices[t]?.[k];
    const v = planned !== undefined && planned < arity ? planned : 0;
    (this.took[t] ??= []).push(v);
    return v;
  }
}

/** Run a plan; the execution and the plan it really followed. */
export function runPlan(model: Model<unknown>, plan: Plan, maxSteps: number): { x: Execution; plan: Plan } {
  const sched = new PlanScheduler(plan);
  const x = new Execution(model, sched, maxSteps).run();
  return { x, plan: { threads: x.stepThread.slice(), choices: sched.took } };
}

/**
 * The thread order of a linearisation of x's trace (its steps ordered by dependence: same thread,
 * conflicting footprints, a spawn before its child's steps, an ending step after all) that keeps
 * running the current thread while its next step has nothing left to wait for, and otherwise goes
 * on with the thread whose next step came first in x. The first remaining step of x is always ready, so the pass never sticks.
 */
export function sameTraceFewerSwitches(x: Execution): number[] {
  const n = x.stepThread.length;
  const waitsFor: number[][] = [];
  for (let i = 0; i < n; i++) {
    const w: number[] = [];
    for (let j = 0; j < i; j++)
      if (x.stepThread[j] !== x.stepThread[i] && stepsConflict(x.stepObj[j], x.stepMode[j], x.stepFoot[j], x.stepObj[i], x.stepMode[i], x.stepFoot[i])) w.push(j);
    waitsFor.push(w);
  }
  const next: number[][] = x.threads.map(() => []);
  for (let i = 0; i < n; i++) next[x.stepThread[i]].push(i);
  const firstStep = next.map((q) => q[0] ?? -1);
  // Spawns keep their order too (stronger than the trace): a thread's number is its place among
  // the spawns, and the plan names threads by number.
  let lastSpawn = -1;
  for (let t = 0; t < x.threads.length; t++) {
    const s = x.threads[t].spawnStep;
    if (s < 0) continue;
    if (firstStep[t] >= 0) waitsFor[firstStep[t]].push(s);
    if (lastSpawn >= 0 && lastSpawn !== s) waitsFor[s].push(lastSpawn);
    lastSpawn = s;
  }
  // A step that ended the execution depends on every step (as in dpor.ts): moved earlier, it would
  // cut off steps that ran before it.
  if (x.status === "stopped" && n > 0) for (let j = 0; j < n - 1; j++) waitsFor[n - 1].push(j);
  const done = new Uint8Array(n), at = new Int32Array(next.length);
  const ready = (t: number) => at[t] < next[t].length && waitsFor[next[t][at[t]]].every((j) => done[j] === 1);
  const out: number[] = [];
  let cur = n > 0 ? x.stepThread[0] : -1;
  while (out.length < n) {
    if (!ready(cur)) {
      let pick = -1;
      for (let t = 0; t < next.length; t++) if (ready(t) && (pick < 0 || next[t][at[t]] < next[pick][at[pick]])) pick = t;
      cur = pick;
    }
    done[next[cur][at[cur]++]] = 1;
    out.push(cur);
  }
  return out;
}

interface Block {
  readonly thread: number;
  readonly start: number;
  readonly end: number;
}

function blocksOf(threads: readonly number[]): Block[] {
  const out: Block[] = [];
  for (let i = 0; i < threads.length; ) {
    let j = i + 1;
    while (j < threads.length && threads[j] === threads[i]) j++;
    out.push({ thread: threads[i], start: i, end: j });
    i = j;
  }
  return out;
}

/** The plan with block k moved in front of its thread's next block (or to the end). */
function delayed(threads: readonly number[], bs: readonly Block[], k: number): number[] | null {
  const b = bs[k];
  const next = bs.findIndex((c, i) => i > k && c.thread === b.thread);
  if (next < 0 && k === bs.length - 1) return null;
  const at = next < 0 ? threads.length : bs[next].start;
  return [...threads.slice(0, b.start), ...threads.slice(b.end, at), ...threads.slice(b.start, b.end), ...threads.slice(at)];
}

/** The plan with block k moved right after its thread's previous block. */
function advanced(threads: readonly number[], bs: readonly Block[], k: number): number[] | null {
  const b = bs[k];
  let prev = -1;
  for (let i = k - 1; i >= 0; i--) if (bs[i].thread === b.thread) { prev = i; break; }
  if (prev < 0 || prev === k - 1) return null;
  const at = bs[prev].end;
  return [...threads.slice(0, at), ...threads.slice(b.start, b.end), ...threads.slice(at, b.start), ...threads.slice(b.end)];
}

/** What the caller lets the moves spend: asked before each run, told of each run. */
export interface Budget {
  spent(): boolean;
  charge(x: Execution): void;
}

export interface BlockMoves {
  readonly best: Execution;
  readonly plan: Plan;
  /** Preemptions of the witness's trace relinearised, when that run was kept; else -1. */
  readonly sameTrace: number;
  /** Moves kept. */
  readonly moves: number;
  /** True when a whole pass found no move to keep (a local minimum); false when the budget ran out. */
  readonly settled: boolean;
}

/**
 * Greedy passes over the blocks: at every block that starts with a preemption, try delaying it,
 * then advancing it; keep the first result that is better. Stops at a pass that keeps nothing, or
 * when the budget is spent.
 */
export function moveBlocks(model: Model<unknown>, isWitness: (x: Execution) => boolean, start: { x: Execution; plan: Plan }, budget: Budget, maxSteps: number): BlockMoves {
  let best = start.x, plan = start.plan;
  let moves = 0, sameTrace = -1;
  const better = (x: Execution) => isWitness(x) && (x.preemptions < best.preemptions || (x.preemptions === best.preemptions && x.steps < best.steps));
  if (!budget.spent()) {
    const r = runPlan(model, { threads: sameTraceFewerSwitches(best), choices: plan.choices }, maxSteps);
    budget.charge(r.x);
    if (better(r.x)) {
      best = r.x;
      plan = r.plan;
      sameTrace = r.x.preemptions;
    }
  }
  for (;;) {
    let kept = false;
    let bs = blocksOf(plan.threads);
    for (let k = 1; k < bs.length; k++) {
      // Only a switch away from a thread that could have gone on is a preemption.
      const from = bs[k - 1].thread;
      if (!(best.enabledBefore[bs[k].start] & (1 << from))) continue;
      for (const move of [delayed, advanced]) {
        const threads = move(plan.threads, bs, k);
        if (threads === null) continue;
        if (budget.spent()) return { best, plan, sameTrace, moves, settled: false };
        const r = runPlan(model, { threads, choices: plan.choices }, maxSteps);
        budget.charge(r.x);
        if (better(r.x)) {
          best = r.x;
          plan = r.plan;
          moves++;
          kept = true;
          bs = blocksOf(plan.threads);
          k = Math.max(0, k - 2); // the blocks around k changed: look again just before them
          break;
        }
      }
    }
    if (!kept) return { best, plan, sameTrace, moves, settled: true };
  }
}

/** Records each thread's choose() values while another scheduler decides. */
class Recording implements Scheduler {
  readonly took: number[][] = [];
  constructor(private readonly inner: Scheduler) {}
  pickThread(x: Execution, enabled: number): number {
    return this.inner.pickThread(x, enabled);
  }
  pickChoice(x: Execution, arity: number, label: string): number {
    const v = this.inner.pickChoice(x, arity, label);
    (this.took[x.currentThread()] ??= []).push(v);
    return v;
  }
}

/** Re-run an execution's decisions to get its plan. */
export function planOf(model: Model<unknown>, sched: Scheduler, maxSteps: number): { x: Execution; plan: Plan } {
  const rec = new Recording(sched);
  const x = new Execution(model, rec, maxSteps).run();
  return { x, plan: { threads: x.stepThread.slice(), choices: rec.took } };
}
