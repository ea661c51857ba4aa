// struct dma_fence (kernel-semantics §22). Model of drivers/dma-buf/dma-fence.c (dma_fence_init,
// dma_fence_signal, dma_fence_add_callback, dma_fence_default_wait / dma_fence_wait_timeout,
// dma_fence_begin_signalling / dma_fence_end_signalling, __dma_fence_might_wait) and
// include/linux/dma-fence.h.
//
// One-shot: unsignalled -> signalled (with an optional error), never back. Signalling runs the
// callbacks under fence->lock (an IRQ-safe spinlock): callbacks are plain functions, run inside
// the signalling step with the task atomic and IRQs off, and so cannot sleep.
//
// For the explorer's wait-for graph a fence is "held" by its signaller (the engine thread running
// the job, set when the job is pushed): a task waiting for the fence while holding something the
// signaller needs is then a real `deadlock` with the cycle printed, in every era.
//
// Signalling sections, two views (kernel-semantics §22, §27):
//  * the rule (both eras): from publication to dma_fence_signal, no resv lock, no reclaiming
//    allocation, no fence wait -> `fence-signalling` findings (device-oracles.ts). The scheduler's
//    job path (gpu.ts) is a section in both eras even though 2018 had no annotation;
//  * lockdep's view (eras with fenceAnnotations): dma_fence_map taken as a read trylock by
//    begin_signalling and acquired exclusively by every wait, so lockdep reports the cycles.
//
// Simplifications: fence->lock is not a lockdep class (callbacks cannot take locks here anyway:
// they are plain functions), errs towards fewer reports. Timeouts are untimed: a wait with a
// finite timeout may time out at any point (errs towards more executions, none impossible in
// the kernel with a small enough timeout). No fence contexts' ordering is enforced beyond what
// engines do (jobs on one engine signal in order).

import { Obj, finding, note } from "../explorer/index.ts";
import type { Touch, Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, leave } from "./kernel.ts";
import { mightSleep } from "./task.ts";
import { deviceEra, requireDev } from "./device-era.ts";
import { checkSignalling, devState, signallingEnter, signallingLeave } from "./device-oracles.ts";
import { viewedDevices } from "./view.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

export const EINVAL = -22;
export const ENOENT = -2;
/** drm_sched / amdgpu report a timed-out job with -ETIME. */
export const ETIME = -62;
export const ECANCELED = -125;

/** The lockdep pseudo-lock of the signalling annotations (dma-fence.c dma_fence_lockdep_map). */
export const DMA_FENCE_MAP = "dma_fence_map";

export type FenceCallback = (f: DmaFence) => void;

export class DmaFence extends Obj {
  // ---- protected by fence->lock (this object's steps) ----
  /** Invariant: once true, never false again; error is fixed at the same step. */
  signalled = false;
  error = 0;
  /** Guard state (explorer effect.ts Tracked.guardState): what every enabled() of this object reads. */
  guardState(): boolean {
    return this.signalled;
  }
  setGuardState(s: unknown): void {
    this.signalled = s as boolean;
  }
  private readonly callbacks: { fn: FenceCallback; name: string }[] = [];
  // ---- oracle bookkeeping ----
  /** Visible to other tasks (added to a resv, pushed to an engine): its signalling section began. */
  published = false;
  /** Thread index of the signaller (the engine/job thread), -1 if unknown. */
  signaller = -1;

  constructor(
    readonly k: Kernel,
    name: string,
    /** Fence context and seqno (dma_fence_context_alloc; informational). The kernel's counter is
     * one per boot (dma-fence.c dma_fence_context_counter), so here one per simulated kernel. */
    readonly context = ++devState(k).fenceContexts,
    readonly seqno = 1,
  ) {
    super("fence", name);
    devState(k).fences.push(this);
    viewedDevices(k).fences.push(this);
  }

  /** For wait-for graphs: the signaller holds an unsignalled fence. */
  override holders(): readonly number[] {
    return !this.signalled && this.signaller >= 0 ? [this.signaller] : [];
  }

  /** dma_fence_is_signaled without a scheduling point (final(), assertions). */
  isSignaled(): boolean {
    return this.signalled;
  }

  /** Internal: one step under fence->lock; `also` names other state it touches. */
  step<T>(label: string, run: () => T, enabled?: () => boolean, also?: readonly Touch[]): Gen<T> {
    return this.access("fence", "w", { label, run, enabled, also });
  }

  /** Internal: a step that only reads whether the fence is signalled (a wait, blocking or not).
   *  Mode "r": two waits neither enable nor disable each other and change nothing, so they
   *  commute; the signal, which enables a blocked wait, writes the fence (effect.ts Op.mode). */
  read<T>(label: string, run: () => T, enabled?: () => boolean): Gen<T> {
    return this.access("fence", "r", { label, run, enabled });
  }

  /** Internal: run the callbacks (inside the signalling step). */
  runCallbacks(): void {
    const cbs = this.callbacks.splice(0);
    for (const cb of cbs) cb.fn(this);
  }
  addCallback(fn: FenceCallback, name: string): void {
    this.callbacks.push({ fn, name });
  }
}

/** dma_fence_init. Callable in setup or threads (no scheduling point). */
export function dma_fence_init(k: Kernel, name: string, context?: number, seqno?: number): DmaFence {
  return new DmaFence(k, name, context, seqno);
}

/** Mark a fence visible to others (resv add, sync_file, push to the scheduler). */
export function dma_fence_publish(f: DmaFence): void {
  f.published = true;
}

/**
 * dma_fence_signal(fence) / dma_fence_set_error + signal: 0, or -EINVAL if already signalled.
 * Callbacks run here, under fence->lock. `also`: the objects the callbacks touch (a callback's
 * effects are part of the signalling step's footprint; the state they write sits behind
 * checkFootprint, so a signaller that leaves it out fails loudly rather than losing traces).
 */
export function* dma_fence_signal(k: Kernel, f: DmaFence, error = 0, also?: readonly Touch[]): Gen<number> {
  const t = k.current();
  const cookie = __fence_lockdep_begin(k);
  const r = yield* f.step(`dma_fence_signal(${f.name}${error ? `, ${error}` : ""})`, () => {
    if (f.signalled) return EINVAL;
    f.signalled = true;
    f.error = error;
    note(`fence ${f.name} signalled${error ? ` with error ${error}` : ""}`);
    t.atomic++;
    t.irqsOff++;
    try {
      f.runCallbacks();
    } finally {
      t.atomic--;
      t.irqsOff--;
    }
    return 0;
  }, undefined, also);
  __fence_lockdep_end(k, cookie);
  return r;
}

/** dma_fence_add_callback: 0, or -ENOENT if already signalled (the callback is not added). */
export function* dma_fence_add_callback(k: Kernel, f: DmaFence, fn: FenceCallback, name = "cb"): Gen<number> {
  void k;
  return yield* f.step(`dma_fence_add_callback(${f.name}, ${name})`, () => {
    if (f.signalled) return ENOENT;
    f.addCallback(fn, name);
    return 0;
  });
}

/** __dma_fence_might_wait (annotated eras): exclusive acquire+release of dma_fence_map. */
function might_wait(k: Kernel): void {
  if (!deviceEra(k).fenceAnnotations) return;
  const t = k.current();
  const cls = k.lockdep.classId(DMA_FENCE_MAP);
  const inSection = t.held.some((h) => h.cls === cls);
  // As the kernel does: drop our own read hold around the exclusive touch, so that a wait inside
  // a section is reported as a dependency, not as recursion.
  if (inSection) k.lockdep.release(t, cls);
  k.lockdep.touch(t, DMA_FENCE_MAP);
  if (inSection) k.lockdep.acquire(t, cls, DMA_FENCE_MAP, 1, true);
}

/**
 * dma_fence_wait(fence, intr): sleeps until signalled; returns 0 (include/linux/dma-fence.h:
 * `return ret < 0 ? ret : 0;`, where only -ERESTARTSYS is negative: the fence's own error is
 * read with dma_fence_get_status, not returned here). No signals are modelled, so intr never
 * returns -ERESTARTSYS.
 */
export function* dma_fence_wait(k: Kernel, f: DmaFence, intr = false): Gen<number> {
  const __k = enter(k, "dma_fence_wait");
  try {
    const t = k.current();
    mightSleep(t, `dma_fence_wait(${f.name})`);
    checkSignalling(t, () => `dma_fence_wait(${f.name})`);
    might_wait(k);
    void intr;
    return yield* f.read(`wait for ${f.name}`, () => 0, () => f.signalled);
  } finally {
    leave(__k);
  }
}

/**
 * dma_fence_wait_timeout(fence, intr, timeout): > 0 if signalled, 0 on timeout. Untimed model: if
 * the fence is not signalled at the step, the timeout is taken to have expired.
 */
export function* dma_fence_wait_timeout(k: Kernel, f: DmaFence, intr = false): Gen<number> {
  const __k = enter(k, "dma_fence_wait_timeout");
  try {
    const t = k.current();
    mightSleep(t, `dma_fence_wait_timeout(${f.name})`);
    checkSignalling(t, () => `dma_fence_wait_timeout(${f.name})`);
    might_wait(k);
    void intr;
    return yield* f.read(`wait for ${f.name} (timeout)`, () => (f.signalled ? 1 : 0));
  } finally {
    leave(__k);
  }
}

// ---- signalling sections ----

function __fence_lockdep_begin(k: Kernel): boolean {
  if (!deviceEra(k).fenceAnnotations) return true;
  const t = k.current();
  const cls = k.lockdep.classId(DMA_FENCE_MAP);
  // Nesting, and atomic context (relies on might_sleep checks), are not annotated again.
  if (t.held.some((h) => h.cls === cls) || t.atomic > 0) return true;
  // "non-recursive successful read_trylock": no edges into the map, edges out of it.
  k.lockdep.acquire(t, cls, DMA_FENCE_MAP, 1, true);
  return false;
}
function __fence_lockdep_end(k: Kernel, cookie: boolean): void {
  if (cookie) return;
  const t = k.current();
  k.lockdep.release(t, k.lockdep.classId(DMA_FENCE_MAP));
}

/** dma_fence_begin_signalling (annotated eras only): returns the cookie for end. */
export function dma_fence_begin_signalling(k: Kernel): boolean {
  requireDev(k, "fenceAnnotations", "dma_fence_begin_signalling", "≈v5.9 'dma-fence: basic lockdep annotations'");
  signallingEnter(k.current());
  return __fence_lockdep_begin(k);
}
export function dma_fence_end_signalling(k: Kernel, cookie: boolean): void {
  signallingLeave(k.current());
  __fence_lockdep_end(k, cookie);
}

/**
 * Run `body` as a signalling critical section in EVERY era: the semantic rule applies to 2018
 * code too, and the annotation is added where the era has it. For code the kernel annotates
 * itself (a driver's own dma_fence_begin_signalling); the scheduler's job path is
 * `signalling_path` below.
 */
export function* signalling_section<T>(k: Kernel, body: () => Gen<T>): Gen<T> {
  const t = k.current();
  signallingEnter(t);
  const cookie = __fence_lockdep_begin(k);
  try {
    return yield* body();
  } finally {
    __fence_lockdep_end(k, cookie);
    signallingLeave(t);
  }
}

/** Assertion helper: report when a fence that must be signalled is not (used by tests/chapters). */
export function fenceMustBeSignalled(f: DmaFence, why: string): void {
  if (!f.signalled) finding("fence-never-signalled", `fence ${f.name} not signalled: ${why}`, { fence: f.name });
}

/**
 * Run `body` as part of a fence's signalling path for the `fence-signalling` rule only: what a
 * job's completion depends on may not wait for memory or for a lock that waits for it (the rule
 * of drivers/dma-buf/dma-fence.c's documentation, in every era). Lockdep sees none of it: stock
 * drm_sched never annotated its run-job path (Vetter's "drm/scheduler: use dma-fence annotations
 * in main thread", 2020, was not merged; v6.18's drm_sched_run_job_work has no
 * dma_fence_begin_signalling), so only dma_fence_signal's own section and a driver's own
 * annotation reach dma_fence_map.
 */
export function* signalling_path<T>(k: Kernel, body: () => Gen<T>): Gen<T> {
  const t = k.current();
  signallingEnter(t);
  try {
    return yield* body();
  } finally {
    signallingLeave(t);
  }
}
