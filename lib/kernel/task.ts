// struct task_struct, as far as the context rules need it: preempt count (spinlocks),
// IRQs off, non_block depth, PF_MEMALLOC, the NOFS/NOIO scopes, the lockdep held-lock
// stack and the page locks the task holds. kernel-semantics.md §2.
//
// One Task per explorer thread, created on first use. The thread's index comes from the
// explorer runtime (lib/explorer/context.ts): holders() of a lock must return thread
// indices for the explorer's wait-for graph, and the public surface only gives names.

import type { Workqueue } from "./workqueue.ts";
import { runtime } from "../explorer/context.ts";
import { finding } from "../explorer/index.ts";

/** One lock held by a task, as lockdep and the context rules see it. */
export interface HeldLock {
  /** Lockdep class id (see Lockdep.classId). */
  readonly cls: number;
  /** Instance name, for messages. */
  readonly name: string;
  /** 0 = exclusive, 1 = shared (rwsem read), 2 = recursive read. */
  readonly read: 0 | 1 | 2;
  readonly trylock: boolean;
  /** The task's call frames when it was taken (a copy): lockdep builds "thread: frame › frame"
   *  from it (heldWhere) only when a report prints it, not on every acquisition. */
  readonly frames: readonly string[];
}

/** Where lock h of task t was taken, as Task.where() read then: "thread: frame › frame". */
export function heldWhere(t: Task, h: HeldLock): string {
  return h.frames.length ? `${t.name}: ${h.frames.join(" › ")}` : t.name;
}

export class Task {
  /** preempt_count from spinlocks / preempt_disable. > 0 means atomic context. */
  atomic = 0;
  /** local_irq_disable / spin_lock_irq depth. */
  irqsOff = 0;
  /** non_block_start() depth: inside a non-blockable notifier callback. */
  nonBlock = 0;
  /** PF_MEMALLOC depth: inside reclaim; nested allocations do not reclaim again. */
  memalloc = 0;
  /** memalloc_nofs_save / memalloc_noio_save depth (current_gfp_context strips __GFP_FS / __GFP_IO). */
  nofs = 0;
  noio = 0;
  /** Lockdep held-lock stack, in acquisition order. Only lockdep-tracked acquisitions. */
  readonly held: HeldLock[] = [];
  /** Page locks (pfns) this task took and has not released (page-lock-recursion oracle). */
  readonly pageLocks: number[] = [];
  /** Depth of dma-fence signalling sections (device-oracles.ts signallingEnter/Leave). */
  signalling = 0;
  /** ww_mutexes held per class (ww-mutex.ts nestCount), created on first use. */
  wwNested: Map<number, number> | undefined = undefined;
  /** Call frames: the explorer's own frame list of this thread (kernel functions pushed by
   *  kcall, driver frames by the explorer's call), for "where" in lockdep reports and traces. */
  readonly frames: string[];
  /** The workqueue this thread is a worker of (current_wq_worker), null for other threads. Set by
   *  the worker itself (workqueue.ts process_one_work): thread-local. */
  workqueue: Workqueue | null = null;
  constructor(
    readonly index: number,
    readonly name: string,
  ) {
    this.frames = index >= 0 ? runtime("Task").frames(index) : [];
  }
  where(): string {
    return this.frames.length ? `${this.name}: ${this.frames.join(" › ")}` : this.name;
  }
}

/** Index of the running explorer thread (-1 in setup). */
export function currentIndex(): number {
  return runtime("currentIndex()").currentThread();
}

/** Name of explorer thread t. */
export function threadName(t: number): string {
  return runtime("threadName()").threadName(t);
}

/** Per-execution table of tasks. */
export class Tasks {
  private readonly byIndex: Task[] = [];
  /** Setup code (model construction) and final() run as this pseudo-task; it never blocks. One per
   *  execution like every task: what setup leaves on it (a held lock) is not carried to the next. */
  private setup: Task | null = null;
  current(): Task {
    const t = currentIndex();
    if (t < 0) return (this.setup ??= new Task(-1, "(setup)"));
    return (this.byIndex[t] ??= new Task(t, threadName(t)));
  }
  /** The task of thread t if it has run kernel code, else null. */
  byIndexOrNull(t: number): Task | null {
    return this.byIndex[t] ?? null;
  }
}


/**
 * might_sleep(): any operation that may sleep (sleeping locks, waits, flush_work, lock_page,
 * an allocation that may direct-reclaim) reports `sleep-in-atomic` when called in atomic
 * context, with IRQs off, or inside a non-blockable notifier callback (kernel/sched/core.c
 * __might_sleep; include/linux/mmu_notifier.h non_block_start). The operation still proceeds:
 * the kernel only warns, and continuing shows what happens next.
 */
export function mightSleep(task: Task, what: string | (() => string)): void {
  if (task.atomic > 0 || task.irqsOff > 0 || task.nonBlock > 0) {
    // A function: the text is built only for a report (an allocation names its GFP flags).
    if (typeof what === "function") what = what();
    const why = task.nonBlock > 0 ? "inside a non-blockable notifier callback" : task.atomic > 0 ? "in atomic context (a spinlock is held)" : "with interrupts disabled";
    finding("sleep-in-atomic", `${what} may sleep but ${task.where()} runs ${why}`, { what, atomic: task.atomic, irqsOff: task.irqsOff, nonBlock: task.nonBlock });
  }
}

/** non_block_start/end (include/linux/mmu_notifier.h). */
export function nonBlockStart(task: Task): void {
  task.nonBlock++;
}
export function nonBlockEnd(task: Task): void {
  task.nonBlock--;
}

/** The explorer's held-lock name list of thread t (traces, deadlock reports). Used when a lock
 *  is released by another task than the acquirer (up_read_non_owner, unlock_page). */
export function explorerHeld(t: number): string[] {
  return runtime("explorerHeld()").held(t);
}
