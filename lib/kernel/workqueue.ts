// Workqueues (kernel-semantics §26, §30). Model of kernel/workqueue.c (queue_work,
// process_one_work, __flush_work / start_flush_work, flush_workqueue, cancel_work_sync,
// check_flush_dependency).
//
// queue_work on an idle item marks it pending and spawns a worker thread ("kworker/<wq>") that
// runs the function once; queueing an item that is already pending is a no-op; queueing it while
// it runs makes it run once more. process_one_work holds the wq's and the work's lockdep maps
// while the function runs; flush_work touches the work's map (wqFlushLockdep: absent v4.15–v4.18,
// §30) and, on ordered and WQ_MEM_RECLAIM (rescuer) queues, the wq's map (in both eras; since
// v4.19 not from cancel_work_sync); flush_workqueue the wq's map (wqFlushLockdep only). The
// process_one_work maps exist in both.
// check_flush_dependency: flushing a !WQ_MEM_RECLAIM queue from PF_MEMALLOC or from a
// WQ_MEM_RECLAIM worker is reported (`flush-dependency`).
//
// Simplification: one worker thread per queued execution (no concurrency limit, no rescuer).
// Errs towards more concurrency between different items (never less), not for one item: an
// item never runs concurrently with itself. flush_workqueue takes the set of items queued so far
// in one step (its colour flip) and then waits for each that is still busy when it gets there,
// and flush_work waits until the item has no execution left: both also wait for an execution
// queued after the flush began, which the kernel does not. That errs towards fewer schedules (a
// flush returning while that later execution is pending is never explored) and can add a
// deadlock the kernel does not have (an item whose later run flushes the queue it was first on;
// a work that always requeues itself never lets flush_work return). cancel_work_sync clears
// pending at once, where the kernel keeps it set for the whole cancel: a racing queue_work
// succeeds here and the item runs again (fewer schedules of queue_work returning false).
// check_flush_dependency asks the flushing task which queue it works for (Task.workqueue,
// current_wq_worker).

import { Obj, finding, spawn } from "../explorer/index.ts";
import type { Touch, Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, kcall, leave } from "./kernel.ts";
import { mightSleep } from "./task.ts";
import { planted } from "./planted.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

export const WQ_MEM_RECLAIM = 1;
export const WQ_ORDERED = 2;

/**
 * struct workqueue_struct. An explorer object for the set of items ever queued on it, which is
 * what flush_workqueue walks (the kernel's flush colours: the items queued before the flush).
 * Lock rule: `works` changes only in queue_work's step, as a commutative update (it adds the item
 * in creation order, so two queue_works of different items leave the same set in either order),
 * and is read only in flush_workqueue's step.
 */
export class Workqueue extends Obj {
  readonly works: Work[] = [];
  constructor(
    readonly k: Kernel,
    name: string,
    readonly flags = 0,
  ) {
    super("workqueue", name);
  }
  get lockdepName(): string {
    return `(wq_completion)${this.name}`;
  }
  /** The items queued on it so far (a copy), in one step: what flush_workqueue will wait for. */
  members(label: string): Gen<readonly Work[]> {
    return this.access("read", "r", { label, run: () => this.works.slice() });
  }
  /** Inside queue_work's step: add w, keeping creation order. */
  add(w: Work): void {
    if (this.works.includes(w)) return;
    const at = this.works.findIndex((x) => x.id > w.id);
    this.works.splice(at < 0 ? this.works.length : at, 0, w);
  }
}

/** alloc_workqueue (setup). */
export function alloc_workqueue(k: Kernel, name: string, flags = 0): Workqueue {
  return new Workqueue(k, name, flags);
}

/**
 * struct work_struct, as three explorer objects: the item's PENDING bit (`pending`, in work->data:
 * what queue_work, process_one_work's start, cancel and work_pending decide on); the pool's record
 * that a worker executes it (`executing`: busy_hash, find_worker_executing_work); and its count of
 * unfinished executions and the queue it was last queued on (`count`: what a flush reads and waits
 * on). Lock rule: `pending` changes only in steps on the work, `executing.running` only in steps on
 * `executing`, `outstanding` and `wq` only in steps on `count`; a step that changes several names
 * each of them.
 * The count is apart because a flush reads only the count: as one object, a flush's "busy?"
 * depended on the worker's process_one_work (pending -> running, the count unchanged), and under
 * DPOR half of chapter 05's races were that pair. `executing` is apart because the end of an
 * execution touches busy_hash and not PENDING: as one object, work_pending (i915's
 * __i915_gem_userptr_set_active) raced the worker's last step, 28% of the races of chapter 06's
 * i915 what-if without the flush (test/kernel/workqueue.test.ts).
 */
export class Work extends Obj {
  pending = false;
  readonly executing: WorkExecuting;
  readonly count: WorkCount;
  /** The count as a second object of a step (made once: a work step runs in every execution). */
  readonly alsoCount: readonly Touch[];
  constructor(
    readonly k: Kernel,
    name: string,
    readonly fn: (w: Work) => Gen<void>,
  ) {
    super("work", name);
    this.count = new WorkCount(name);
    this.alsoCount = Object.freeze([Object.freeze({ obj: this.count, mode: "w" as const })]);
    this.executing = new WorkExecuting(name, this);
  }
  get lockdepName(): string {
    return `(work_completion)(&${this.name})`;
  }
  /** A step on the item's PENDING bit; `count: true` also writes the count (one atomic step on both). */
  step<T>(label: string, run: () => T, enabled?: () => boolean, count = false): Gen<T> {
    return this.access("write", "w", { label, run, enabled, also: count ? this.alsoCount : undefined });
  }
  /** work_pending(): test_bit(WORK_STRUCT_PENDING_BIT), a read of the bit alone. */
  pendingRead(): Gen<boolean> {
    return this.access("read", "r", { label: `work_pending(${this.name})`, run: () => this.pending });
  }
  /** queue_work's step: the item, its count, and (an update) the queue's set of items. */
  queueStep(wq: Workqueue, run: () => boolean): Gen<boolean> {
    return this.access("write", "w", { label: `queue_work(${wq.name}, ${this.name})`, run, also: [{ obj: this.count, mode: "w" }, { obj: wq, mode: "u" }] });
  }
}

/**
 * Whether a worker executes the item (Work.executing): the pool's busy_hash entry, which
 * process_one_work adds when it takes the item (clearing PENDING in the same step) and removes at
 * the end, and which makes a second execution wait for the first. Shares the item's name in traces.
 */
export class WorkExecuting extends Obj {
  running = false;
  /** The start's second object: the item's PENDING bit (made once per item). */
  private readonly alsoPending: readonly Touch[];
  /** The end's second object: the item's count (Work.alsoCount), unless the planted bug leaves it unnamed. */
  private readonly alsoCount: readonly Touch[];
  constructor(name: string, w: Work) {
    super("work", name);
    this.alsoPending = Object.freeze([Object.freeze({ obj: w, mode: "w" as const })]);
    this.alsoCount = w.alsoCount;
  }
  /** Guard state (explorer effect.ts Tracked.guardState): what every enabled() of this object reads. */
  guardState(): number {
    return this.running ? 1 : 0;
  }
  setGuardState(s: unknown): void {
    this.running = s === 1;
  }
  /** process_one_work's start: wait until no worker executes the item, then take it (PENDING too). */
  start(label: string, run: () => boolean): Gen<boolean> {
    return this.access("write", "w", { label, run, enabled: () => !this.running, also: this.alsoPending });
  }
  /** process_one_work's end: out of busy_hash, and (`count`) one execution fewer. */
  end(label: string, run: () => void, count: boolean): Gen<void> {
    return this.access("write", "w", { label, run, also: count ? this.alsoCount : undefined });
  }
}

/** A work item's count of unfinished executions (Work.count): what flush_work and
 *  flush_workqueue read and wait on. Shares the item's name in traces. */
export class WorkCount extends Obj {
  /** Number of queued-but-not-finished executions (0..2: one running, one pending). */
  outstanding = 0;
  /** Guard state (explorer effect.ts Tracked.guardState): what every enabled() of this object reads. */
  guardState(): number {
    return this.outstanding;
  }
  setGuardState(s: unknown): void {
    this.outstanding = s as number;
  }
  /** The queue it was last queued on (get_work_pwq), null before its first queue_work. */
  wq: Workqueue | null = null;
  constructor(name: string) {
    super("work", name);
  }
  /** "Is it busy?", and the queue it belongs to: reads the count only. */
  busy(label: string): Gen<{ readonly busy: boolean; readonly wq: Workqueue | null }> {
    return this.access("read", "r", { label, run: () => ({ busy: this.outstanding > 0, wq: this.wq }) });
  }
  /** wait_for_completion: blocks until no execution is left. Mode "r", like a fence wait
   *  (dma-fence.ts read): it changes nothing, two waits commute, and only a write of the count
   *  (an execution's done, a cancel, a queue_work) enables or disables it (effect.ts Op.mode). */
  idle(label: string): Gen<void> {
    return this.access("read", "r", { label, run: () => undefined, enabled: () => this.outstanding === 0 });
  }
}

/** INIT_WORK (setup). */
export function init_work(k: Kernel, name: string, fn: (w: Work) => Gen<void>): Work {
  return new Work(k, name, fn);
}

/** queue_work: false if it was already pending. */
export function* queue_work(k: Kernel, wq: Workqueue, w: Work): Gen<boolean> {
  const queued = yield* w.queueStep(wq, () => {
    if (w.pending) return false;
    w.pending = true;
    w.count.outstanding++;
    w.count.wq = wq;
    wq.add(w);
    return true;
  });
  if (queued) yield* spawn(`kworker/${wq.name}`, () => process_one_work(k, wq, w));
  return queued;
}

function* process_one_work(k: Kernel, wq: Workqueue, w: Work): Gen<void> {
  // This thread is a worker of wq (current_wq_worker: check_flush_dependency asks).
  k.current().workqueue = wq;
  // A work item never runs concurrently with itself: wait for a previous run to finish.
  const go = yield* w.executing.start(`process_one_work(${w.name})`, () => {
    if (!w.pending) return false; // cancelled
    w.pending = false;
    w.executing.running = true;
    return true;
  });
  if (!go) return;
  const t = k.current();
  k.lockdep.mapAcquire(t, wq.lockdepName);
  k.lockdep.mapAcquire(t, w.lockdepName);
  yield* kcall(k, w.name, () => w.fn(w));
  k.lockdep.mapRelease(t, w.lockdepName);
  k.lockdep.mapRelease(t, wq.lockdepName);
  yield* w.executing.end(`${w.name} done`, () => {
    w.executing.running = false;
    w.count.outstanding--;
  }, !planted(k, "work-done-count-unnamed"));
}

/** check_flush_dependency (kernel/workqueue.c): flushing a !WQ_MEM_RECLAIM queue from reclaim or
 *  from a WQ_MEM_RECLAIM queue's worker may deadlock under memory pressure. */
function checkFlushDependency(k: Kernel, target: Workqueue): void {
  const t = k.current();
  if (target.flags & WQ_MEM_RECLAIM) return;
  if (t.memalloc > 0) finding("flush-dependency", `${t.name} (PF_MEMALLOC) flushes !WQ_MEM_RECLAIM workqueue ${target.name}: reclaim may wait for work that needs memory`, { wq: target.name });
  else if (t.workqueue !== null && t.workqueue.flags & WQ_MEM_RECLAIM)
    finding("flush-dependency", `WQ_MEM_RECLAIM worker ${t.name} flushes !WQ_MEM_RECLAIM ${target.name}`, { wq: target.name });
}

/** work_pending (include/linux/workqueue.h): is the item queued and not yet taken by a worker? */
export function* work_pending(w: Work): Gen<boolean> {
  return yield* w.pendingRead();
}

/** flush_work: wait until w has no execution left (see the header). Returns true if it waited. */
export function* flush_work(k: Kernel, w: Work): Gen<boolean> {
  return yield* __flush_work(k, w, false);
}

function* __flush_work(k: Kernel, w: Work, fromCancel: boolean): Gen<boolean> {
  const __f = enter(k, "flush_work");
  try {
    const t = k.current();
    mightSleep(t, `flush_work(${w.name})`);
    // The work's own map: dropped for v4.15–v4.18 by fd1a5b04dfb8, back in 87915adc3f0a (v4.19),
    // touched by __flush_work whatever the work's state until c35aea39d1e1 (v6.9) moved it into
    // start_flush_work, after the already_gone return (below).
    if (k.era.wqFlushLockdep && !k.era.wqFlushWorkMapWhenBusy) k.lockdep.touch(t, w.lockdepName);
    // start_flush_work: the work's queue (get_work_pwq) is read with its state, in one step.
    const { busy, wq } = yield* w.count.busy(`__flush_work(${w.name})`);
    // An idle item returns through already_gone before check_flush_dependency, which a cancel
    // skips since de35994ecd2d.
    if (busy && wq && !(fromCancel && k.era.wqCancelSkipsFlushDependency)) checkFlushDependency(k, wq);
    if (busy && k.era.wqFlushLockdep && k.era.wqFlushWorkMapWhenBusy) k.lockdep.touch(t, w.lockdepName);
    // start_flush_work, when the work is pending or running (an idle one returns early through
    // already_gone): a write acquire of the queue's map on ordered and rescuer-equipped queues
    // ("force a lock recursion deadlock"). fd1a5b04dfb8 removed the other flush annotations but
    // not this one, so v4.16 has it (kernel/workqueue.c v4.16); d6e89786bed9 (v4.19) skips it for
    // cancel_work_sync.
    const recursionMap = wq && wq.flags & (WQ_ORDERED | WQ_MEM_RECLAIM);
    if (busy && recursionMap && !(fromCancel && k.era.wqFlushLockdep)) k.lockdep.touch(t, wq!.lockdepName);
    if (busy) yield* w.count.idle(`wait_for_completion(${w.name})`);
    return busy;
  } finally {
    leave(__f);
  }
}

/** flush_workqueue: wait for every item queued on wq so far. */
export function* flush_workqueue(k: Kernel, wq: Workqueue): Gen<void> {
  const __f = enter(k, "flush_workqueue");
  try {
    const t = k.current();
    mightSleep(t, `flush_workqueue(${wq.name})`);
    checkFlushDependency(k, wq);
    if (k.era.wqFlushLockdep) k.lockdep.touch(t, wq.lockdepName);
    // The items queued so far (flush_workqueue's colour flip), then a wait for each until it is
    // idle: one blocking read, which returns at once for an idle item. A "busy?" read before the
    // wait would add nothing the flusher acts on (nothing runs between the two here) and would race
    // every execution's done: both orders reach the same states, and source-DPOR ran both (15% of
    // C03.3's races).
    for (const w of yield* wq.members(`flush_workqueue(${wq.name}): queued items`))
      yield* w.count.idle(`flush_workqueue: wait for ${w.name}`);
  } finally {
    leave(__f);
  }
}

/** cancel_work_sync: remove a pending execution, then wait for a running one. */
export function* cancel_work_sync(k: Kernel, w: Work): Gen<boolean> {
  const __f = enter(k, "cancel_work_sync");
  try {
    const was = yield* w.step(`cancel_work(${w.name})`, () => {
      if (!w.pending) return false;
      w.pending = false;
      w.count.outstanding--;
      return true;
    }, undefined, true);
    yield* __flush_work(k, w, true);
    return was;
  } finally {
    leave(__f);
  }
}
