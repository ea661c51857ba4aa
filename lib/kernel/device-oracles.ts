// Oracles of the device half (kernel-semantics §21–§25, §28; chapters.md §0.4). They feed the same
// finding machinery as the mm half (explorer `finding`) and, for lockdep, the same Lockdep graph.
//
//  stray-write        a device write through a driver mapping of mm:vpn that was installed BEFORE
//                     a notifier callback invalidating mm:vpn returned (the callback promised the
//                     device was off the page). Bookkeeping: markCallbackReturned / trackNotifier.
//  stray-read         the same for a device read (the page's new owner's data can leak).
//  stale-access       a device write through a userptr mapping of mm:vpn to a frame the owner's
//                     CPU page table does not map at that moment (checkStaleAccess).
//  lazy-iotlb-window  (iommu.ts) a device access through an IOTLB entry whose IO PTE was unmapped
//                     in lazy (flush-queue) mode. NOT a bug: the documented reduced isolation of
//                     iommu.strict=0. In strict mode the same access faults (`iommu-fault`).
//  fence-never-signalled  a published fence still unsignalled at quiescence (fenceLiveness).
//  fence-signalling   inside a fence signalling section (dma_fence_begin/end_signalling, the
//                     scheduler's run/complete/timeout path): a resv lock, a reclaiming allocation,
//                     or a fence wait. Era-independent: the 2018 kernel had the rule but no check;
//                     the era's lockdep report comes separately (dma_fence_map, dma-fence.ts).
//  ww-violation       (ww-mutex.ts) ww back-off protocol.
//  dmabuf-locking     (dma-buf.ts) the dma-buf locking convention of the era.
//  dmabuf-stale-map   (dma-buf.ts) a device access through an sg_table after move_notify for it
//                     AND after the move's fence signalled.
//  resv-protocol      (dma-resv.ts) add_fence without the lock or without a reserved slot.
//  iommu-fault, gpu-fault  informational: the hardware refused an access (write dropped).
//  userptr-fault      (gpu.ts) a fatal GPU fault of a job that declared BOs on a VA that was bound
//                     to a userptr page: the job's mapping was torn down under it. A finding, not
//                     information: many GPUs cannot recover from it, and no design promises less.
// Device accesses span two steps (gpu.ts: translation fetched, then memory reached), so a write
// that was in flight when the callback tore the mapping down still lands, and stray-write sees it.
// A waiter holding what the signaller needs is a real `deadlock` (the explorer's wait-for graph:
// a fence's holder is its signaller) and, in eras with annotations, a `lockdep` cycle.

import { finding } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import type { Mm } from "./mm.ts";
import type { MmuIntervalNotifier, MmuIntervalNotifierOps, MmuNotifier, MmuNotifierOps, MmuNotifierRange } from "./mmu-notifier.ts";
import type { Task } from "./task.ts";
import { __GFP_DIRECT_RECLAIM, current_gfp_context, gfpName, kmalloc } from "./gfp.ts";
import { trace, traced, type OracleProbes, type TraceEvents } from "./tracepoints.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

import { initScalar } from "./access-log.ts";
import { fieldNo, type FieldLog, MAP_OWNER_DEVICE, MAX_INDEX, SPACE_MAP } from "./field-log.ts";
import { PageCounts } from "./page-counts.ts";

/** Per-kernel state of the device oracles. Fields change only inside k.mem steps unless noted. */
export class DeviceState {
  /** Per page (pageKey): how many invalidation callbacks covering it have returned (stray-write, stray-read). */
  readonly returned: PageCounts;
  /** Per page: how many invalidations covering it have begun (the mm_invalidate_start probe; stale-access). */
  readonly began: PageCounts;
  /** The last fence context handed out (dma-fence.ts; dma_fence_context_alloc's counter, one per boot).
   *  Not recorded itself: DmaFence's constructor reads `fences` right after taking a context, and
   *  that read trips a split step, so a fence made in one falls back to all of memory. */
  fenceContexts = 0;
  /** Every fence created in this execution (liveness at quiescence). */
  declare readonly fences: { readonly name: string; readonly published: boolean; isSignaled(): boolean }[];
  // fences is recorded (tripped on) under field footprints: defined here, not as an initialized
  // field (access-log.ts initScalar: the object keeps V8's fast mode).
  constructor(fl: FieldLog | null) {
    // Field footprints (field-log.ts): page pageKey(mm, vpn) of counts j is (MAP, MAP_OWNER_DEVICE + 0x1000 j + mm.id, vpn, 0).
    const field = (j: number) => (key: number): number | null => {
      const mm = Math.floor(key / 0x100000), vpn = key % 0x100000;
      return mm < 0x1000 && vpn <= MAX_INDEX ? fieldNo(SPACE_MAP, MAP_OWNER_DEVICE + 0x1000 * j + mm, vpn, 0) : null;
    };
    this.returned = new PageCounts("D.returned", fl, field(0));
    this.began = new PageCounts("D.began", fl, field(1));
    initScalar(this, "fences", [], fl !== null ? { trip: fl } : null);
  }
}

/** The device oracles' state of kernel k (per execution; on the kernel: see Kernel.devState). */
export function devState(k: Kernel): DeviceState {
  if (k.devState === undefined) {
    // Made on first use, possibly inside a split step, which need not fall back to all of memory:
    // a fresh DeviceState (no counts, no fences) answers every question as "not made yet" would,
    // so making it changes nothing another step can see.
    k.devState = new DeviceState(k.mem.fields);
  }
  return k.devState;
}

/** One number per (mm, page): no string is built per page on these hot paths. An mm has far
 *  fewer than 2^20 pages (Mm allocates arrays of npages entries), so keys never collide. */
export const pageKey = (mm: Mm, vpn: number): number => mm.id * 0x100000 + vpn;
const key = pageKey;

// ---- stray-write ----

/**
 * The driver's invalidation callback covering mm:[start, end) returned. A memory step of mode
 * "r" (it changes only oracle bookkeeping, read by device-write steps, which are "w").
 */
export function* markCallbackReturned(k: Kernel, mm: Mm, start: number, end: number, who = "callback"): Gen<void> {
  // A split step: the probe touches only the device state's per-page counts, whose fields are
  // recorded (page-counts.ts), so with no probe attached (no claim reads stray-write or
  // stray-read) it depends on nothing.
  yield* k.mem.fieldStep(`${who} returned (${mm.name}:${start}..${end})`, "r", () => {
    if (traced(k, "callback_returned")) trace(k, "callback_returned", { mm, start, end });
  });
}

/** Probe on callback_returned: stray-write / stray-read's bookkeeping. */
function callbackReturnedProbe(k: Kernel, e: TraceEvents["callback_returned"]): void {
  const s = devState(k);
  for (let vpn = e.start; vpn < e.end; vpn++) s.returned.bump(key(e.mm, vpn));
}

/** Probe on mm_invalidate_start: invalidation starts per page (stale-access: was a mapping
 *  installed before or after the invalidation that replaced its frame began?). */
function invalidationBeganProbe(k: Kernel, r: MmuNotifierRange): void {
  const s = devState(k);
  for (let vpn = r.start; vpn < r.end && vpn < r.mm.npages; vpn++) s.began.bump(pageKey(r.mm, vpn));
}

/** Wrap classic notifier ops so that the return of invalidate_range_start is recorded. */
export function trackNotifier(k: Kernel, ops: MmuNotifierOps): MmuNotifierOps {
  const start = ops.invalidate_range_start;
  if (!start) return ops;
  return {
    ...ops,
    // An arrow returning a module-level generator, not a generator closure: V8 gives every
    // generator closure its own hidden class on its first call, whose reference keeps the whole
    // execution alive until the next full GC (see Kernel.devState).
    invalidate_range_start: (sub, range) => trackedStart(k, ops, start, sub, range),
  };
}
function* trackedStart(k: Kernel, ops: MmuNotifierOps, start: NonNullable<MmuNotifierOps["invalidate_range_start"]>, sub: MmuNotifier, range: MmuNotifierRange): Gen<number | void> {
  const r = yield* start.call(ops, sub, range);
  yield* markCallbackReturned(k, range.mm, range.start, range.end, `${ops.name}.invalidate_range_start`);
  return r;
}

/** Wrap interval notifier ops likewise (only a successful invalidate counts). */
export function trackIntervalNotifier(k: Kernel, ops: MmuIntervalNotifierOps): MmuIntervalNotifierOps {
  return {
    ...ops,
    invalidate: (sub, range, seq) => trackedInvalidate(k, ops, sub, range, seq),
  };
}
function* trackedInvalidate(k: Kernel, ops: MmuIntervalNotifierOps, sub: MmuIntervalNotifier, range: MmuNotifierRange, seq: number): Gen<boolean> {
  const ok = yield* ops.invalidate.call(ops, sub, range, seq);
  if (ok) yield* markCallbackReturned(k, range.mm, Math.max(range.start, sub.start), Math.min(range.end, sub.end), `${ops.name}.invalidate`);
  return ok;
}

/** What a device mapping of a page saw of the page's invalidations when it was installed. */
export interface InstallStamp {
  /** Callbacks covering the page that had returned (DeviceState.returned). */
  readonly returned: number;
  /** Invalidations of the page that had begun (DeviceState.began). */
  readonly began: number;
}
export const NO_STAMP: InstallStamp = Object.freeze({ returned: 0, began: 0 });

/** The stamp of a device mapping of mm:vpn installed now (inside a memory step). */
export function installStamp(k: Kernel, mm: Mm, vpn: number): InstallStamp {
  // No counts are read when no claim reads stray-write, stray-read or stale-access: nothing compares the stamp then.
  if (!k.deviceStamps) return NO_STAMP;
  const s = devState(k), p = key(mm, vpn);
  return { returned: s.returned.count(p), began: s.began.count(p) };
}

/**
 * Inside a memory step: a device write through a mapping of mm:vpn installed with `stamp`, which
 * reached frame `pfn`. The message names the frame because it need not be mm:vpn's page any more:
 * a stale device TLB entry behind a reused IOVA reaches another object's page (chapter 07).
 * Nothing else is read here, so the step's footprint does not depend on the finding.
 */
export function checkStrayWrite(k: Kernel, mm: Mm, vpn: number, stamp: InstallStamp, who: string, pfn: number): void {
  if (devState(k).returned.count(key(mm, vpn)) > stamp.returned)
    finding("stray-write", `${who} wrote through its mapping of ${mm.name}:${vpn}, installed before the invalidation callback for it returned: the write reached frame ${pfn}`, { mm: mm.name, vpn, pfn });
}

// ---- probes on the machine's tracepoints (tracepoints.ts) ----

/** Probe on gpu_dma: stray-write, stray-read, stale-access. */
function deviceAccessProbe(k: Kernel, e: TraceEvents["gpu_dma"]): void {
  if (!e.owner) return;
  if (!e.write) {
    checkStrayRead(k, e.owner.mm, e.owner.vpn, e.stamp, e.who, e.pfn);
    return;
  }
  checkStrayWrite(k, e.owner.mm, e.owner.vpn, e.stamp, e.who, e.pfn);
  checkStaleAccess(k, e.owner.mm, e.owner.vpn, e.pfn, e.stamp, e.who);
}

/**
 * userptr-fault: a job that declared BOs took a fatal fault on a VA bound to a userptr page. The
 * job was submitted against that mapping, so the invalidation that tore it down did not wait for
 * the job (or the job was published after the callback looked). Rogue jobs (no BOs) fault as
 * designed: `gpu-fault` only.
 */
function userptrFaultProbe(_k: Kernel, e: TraceEvents["gpu_fault"]): void {
  if (e.userptr && e.bos.length > 0)
    finding("userptr-fault", `${e.who}: the job declared ${e.bos.join(", ")} but its userptr translation at VA ${e.va} was torn down before the job finished`, { job: e.job, va: e.va });
}

// This module's oracles, by tracepoint (oracle-probes.ts attaches them); frozen, since lib/ keeps no module state.
/** stray-write, stray-read, stale-access: checked at every device access through a userptr mapping. */
export const DEVICE_ACCESS: OracleProbes = Object.freeze({ gpu_dma: Object.freeze([deviceAccessProbe]) });
/** stray-write, stray-read: when each invalidation callback returned. */
export const CALLBACK_RETURNS: OracleProbes = Object.freeze({ callback_returned: Object.freeze([callbackReturnedProbe]) });
/** stale-access: when each invalidation began (data.predatesInvalidation). */
export const INVALIDATION_BEGAN: OracleProbes = Object.freeze({ mm_invalidate_start: Object.freeze([invalidationBeganProbe]) });
export const USERPTR_FAULT: OracleProbes = Object.freeze({ gpu_fault: Object.freeze([userptrFaultProbe]) });

/** Inside a memory step: a device READ through a mapping of mm:vpn installed with `stamp`, from frame `pfn` (stray-read). */
export function checkStrayRead(k: Kernel, mm: Mm, vpn: number, stamp: InstallStamp, who: string, pfn: number): void {
  if (devState(k).returned.count(key(mm, vpn)) > stamp.returned)
    finding("stray-read", `${who} read through its mapping of ${mm.name}:${vpn}, installed before the invalidation callback for it returned: the read came from frame ${pfn}`, { mm: mm.name, vpn, pfn });
}

// ---- stale-access ----

/**
 * Inside a memory step: a device write through a userptr mapping of mm:vpn (installed with `stamp`)
 * reached frame `pfn`, and the owner's CPU page table does not map `pfn` at vpn now. A conforming
 * design never does this (KS §17): a job runs only on translations that passed a retry, and the
 * callback keeps the device off the page until it returns, before the CPU PTE changes.
 * data.predatesInvalidation: the mapping was installed before the latest invalidation of the page
 * began, so that invalidation failed to stop the device in time; false: it was installed after the
 * invalidation began, an install that no retry refused.
 */
export function checkStaleAccess(k: Kernel, mm: Mm, vpn: number, pfn: number, stamp: InstallStamp, who: string): void {
  const cpu = mm.cpuPfn(vpn);
  if (cpu === pfn) return;
  const predates = devState(k).began.count(key(mm, vpn)) > stamp.began;
  finding("stale-access", `${who} wrote frame ${pfn} for ${mm.name}:${vpn} while the CPU maps ${cpu < 0 ? "nothing" : `frame ${cpu}`} there`, { mm: mm.name, vpn, pfn, cpu, predatesInvalidation: predates });
}

// ---- fence signalling sections (the semantic rule; lockdep's view is in dma-fence.ts) ----

// Task objects are per execution (Tasks lives on the Kernel), so the depth, a field of the task
// (Task.signalling), is per-execution, thread-local state: entering or leaving a section is not a
// scheduling point. The setup pseudo-task (index -1) is shared by every execution: never counted.
export function signallingDepth(t: Task): number {
  return t.signalling;
}
export function signallingEnter(t: Task): void {
  if (t.index >= 0) t.signalling++;
}
export function signallingLeave(t: Task): void {
  if (t.index >= 0) t.signalling = Math.max(0, t.signalling - 1);
}

/** Report `what` if the task is inside a fence signalling section. `what` is a function where
 *  building the name would cost on every call (it is needed only for a finding). */
export function checkSignalling(t: Task, what: string | (() => string)): void {
  if (signallingDepth(t) === 0) return;
  const w = typeof what === "string" ? what : what();
  finding("fence-signalling", `${w} inside a fence signalling section (${t.where()}): a fence waiter may hold what this needs`, { what: w });
}

/**
 * kmalloc for device code: the allocation rules of gfp.ts plus the signalling-section rule (a
 * reclaiming allocation, GFP_NOFS/GFP_NOIO included, may recurse into a shrinker or notifier that
 * waits for the fence being signalled). Use it instead of kmalloc in code that may run in a
 * signalling section. TODO(merge): gfp.ts's allocation prologue should call checkSignalling itself.
 */
export function* dev_kmalloc(k: Kernel, gfp: number, what = "kmalloc"): Gen<boolean> {
  const t = k.current();
  if (current_gfp_context(t, gfp) & __GFP_DIRECT_RECLAIM && t.memalloc === 0) checkSignalling(t, () => `${what}(${gfpName(gfp)}) may enter direct reclaim`);
  return yield* kmalloc(k, gfp, what);
}

// ---- fence liveness ----

/** At quiescence (final()): published fences that never signalled. Reports each when `report`. */
export function fenceLiveness(k: Kernel, report = true): string[] {
  const out = devState(k).fences.filter((f) => f.published && !f.isSignaled()).map((f) => f.name);
  if (report) for (const n of out) finding("fence-never-signalled", `fence ${n} was published but never signalled`, { fence: n });
  return out;
}
