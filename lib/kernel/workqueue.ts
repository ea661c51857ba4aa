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
// item never runs concurrently with itself.

import { Obj, finding, spawn } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, kcall, leave } from "./kernel.ts";
import { mightSleep } from "./task.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

export const WQ_MEM_RECLAIM = 1;
export const WQ_ORDERED = 2;

export class Workqueue {
  readonly works: Work[] = [];
  constructor(
    readonly k: Kernel,
    readonly name: string,
    readonly flags = 0,
  ) {}
  get lockdepName(): string {
    return `(wq_completion)${this.name}`;
  }
}

/** alloc_workqueue (setup). */
export function alloc_workqueue(k: Kernel, name: string, flags = 0): Workqueue {
  return new Workqueue(k, name, flags);
}

/** struct work_struct. Its state is one explorer object (pending/running decide flush waits). */
export class Work extends Obj {
  pending = false;
  running = false;
  /** Number of queued-but-not-finished executions (0..2: one running, one pending). */
  outstanding = 0;
  wq: Workqueue | null = null;
  constructor(
    readonly k: Kernel,
    name: string,
    readonly fn: (w: Work) => Gen<void>,
  ) {
    super("work", name);
  }
  get lockdepName(): string {
    return `(work_completion)(&${this.name})`;
  }
  step<T>(label: string, run: () => T, enabled?: () => boolean): Gen<T> {
    return this.access("write", "w", { label, run, enabled });
  }
}

/** INIT_WORK (setup). */
export function init_work(k: Kernel, name: string, fn: (w: Work) => Gen<void>): Work {
  return new Work(k, name, fn);
}

/** queue_work: false if it was already pending. */
export function* queue_work(k: Kernel, wq: Workqueue, w: Work): Gen<boolean> {
  const queued = yield* w.step(`queue_work(${wq.name}, ${w.name})`, () => {
    if (w.pending) return false;
    w.pending = true;
    w.outstanding++;
    w.wq = wq;
    if (!wq.works.includes(w)) wq.works.push(w);
    return true;
  });
  if (queued) yield* spawn(`kworker/${wq.name}`, () => process_one_work(k, wq, w));
  return queued;
}

function* process_one_work(k: Kernel, wq: Workqueue, w: Work): Gen<void> {
  // A work item never runs concurrently with itself: wait for a previous run to finish.
  const go = yield* w.step(`process_one_work(${w.name})`, () => {
    if (!w.pending) return false; // cancelled
    w.pending = false;
    w.running = true;
    return true;
  }, () => !w.running);
  if (!go) return;
  const t = k.current();
  k.lockdep.mapAcquire(t, wq.lockdepName);
  k.lockdep.mapAcquire(t, w.lockdepName);
  yield* kcall(k, w.name, () => w.fn(w));
  k.lockdep.mapRelease(t, w.lockdepName);
  k.lockdep.mapRelease(t, wq.lockdepName);
  yield* w.step(`${w.name} done`, () => {
    w.running = false;
    w.outstanding--;
  });
}

function checkFlushDependency(k: Kernel, target: Workqueue): void {
  const t = k.current();
  if (target.flags & WQ_MEM_RECLAIM) return;
  if (t.memalloc > 0) finding("flush-dependency", `${t.name} (PF_MEMALLOC) flushes !WQ_MEM_RECLAIM workqueue ${target.name}: reclaim may wait for work that needs memory`, { wq: target.name });
  else if (t.name.startsWith("kworker/")) {
    // A WQ_MEM_RECLAIM worker flushing a !WQ_MEM_RECLAIM queue.
    const own = t.name.slice("kworker/".length);
    for (const w of target.works) if (w.wq && w.wq.name === own && w.wq.flags & WQ_MEM_RECLAIM) finding("flush-dependency", `WQ_MEM_RECLAIM worker ${t.name} flushes !WQ_MEM_RECLAIM ${target.name}`, { wq: target.name });
  }
}

/** flush_work: wait for the last queued execution of w. Returns true if it waited. */
export function* flush_work(k: Kernel, w: Work): Gen<boolean> {
  return yield* __flush_work(k, w, false);
}

function* __flush_work(k: Kernel, w: Work, fromCancel: boolean): Gen<boolean> {
  const __f = enter(k, "flush_work");
  try {
    const t = k.current();
    mightSleep(t, `flush_work(${w.name})`);
    if (w.wq) checkFlushDependency(k, w.wq);
    // The work's own map: dropped for v4.15–v4.18 by fd1a5b04dfb8, back in 87915adc3f0a (v4.19).
    if (k.era.wqFlushLockdep) k.lockdep.touch(t, w.lockdepName);
    const busy = yield* w.step(`__flush_work(${w.name})`, () => w.outstanding > 0);
    // start_flush_work, when the work is pending or running (an idle one returns early through
    // already_gone): a write acquire of the queue's map on ordered and rescuer-equipped queues
    // ("force a lock recursion deadlock"). fd1a5b04dfb8 removed the other flush annotations but
    // not this one, so v4.16 has it (kernel/workqueue.c v4.16); d6e89786bed9 (v4.19) skips it for
    // cancel_work_sync.
    const recursionMap = w.wq && w.wq.flags & (WQ_ORDERED | WQ_MEM_RECLAIM);
    if (busy && recursionMap && !(fromCancel && k.era.wqFlushLockdep)) k.lockdep.touch(t, w.wq!.lockdepName);
    if (busy) yield* w.step(`wait_for_completion(${w.name})`, () => undefined, () => w.outstanding === 0);
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
    for (const w of wq.works) {
      const busy = yield* w.step(`flush_workqueue: ${w.name} busy?`, () => w.outstanding > 0);
      if (busy) yield* w.step(`wait_for_completion(${w.name})`, () => undefined, () => w.outstanding === 0);
    }
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
      w.outstanding--;
      return true;
    });
    yield* __flush_work(k, w, true);
    return was;
  } finally {
    leave(__f);
  }
}
