// Tracepoints: the machine's mechanics announce what happened, the oracles listen (issue 14).
// In the spirit of the kernel's TRACE_EVENT()s (include/trace/events/): the code that moves a
// translation or reaches a frame calls trace(k, "event", data) at the point the kernel would
// call trace_event(...), inside the memory step; trace() calls the probes the kernel attached at
// boot (k.probes, built by oracle-probes.ts from each oracle's probes), which report findings.
// A new oracle is then a new probe, not an edit of the mechanism it watches.
// Attached per kernel, not register_trace() into a module-level registry: that would be module
// state, which lib/ must not keep (it is shared by a chapter's units; test/build/module-state.test.ts).
// A kernel attaches only the oracles whose finding kinds some claim of the search reads
// (lib/explorer/subscriptions.ts): the others keep no state, so their bookkeeping adds no
// dependency between steps.
//
// Probes run synchronously inside the emitting step (findings they report belong to that step)
// and must not yield, nor change anything but their own oracle's state: no thread may behave
// differently with a probe attached or not (test/kernel/subscriptions.test.ts replays every
// schedule both ways). All state a probe keeps lives on the Kernel (per execution).

import type { Kernel } from "./kernel.ts";
import type { Mm } from "./mm.ts";
import type { MmuNotifierRange } from "./mmu-notifier.ts";
import type { InstallStamp } from "./device-oracles.ts";

export interface TraceEvents {
  /** mmu_notifier_invalidate_range_start, before the callbacks (trace_mmu_notifier_invalidate_range_start's place). */
  mm_invalidate_start: MmuNotifierRange;
  /** The range ended (after range_end's callbacks), or its start failed. */
  mm_invalidate_end: MmuNotifierRange;
  /** A device translation (GPU PTE) for mm:vpn now reaches frame pfn (-1: not known). */
  device_map_installed: { readonly mm: Mm; readonly vpn: number; readonly pfn: number; readonly who: string };
  /** That translation was removed. */
  device_map_removed: { readonly mm: Mm; readonly vpn: number; readonly pfn: number };
  /** A driver's invalidation callback covering mm:[start, end) returned (device-oracles.ts markCallbackReturned). */
  callback_returned: { readonly mm: Mm; readonly start: number; readonly end: number };
  /** A CPU mapping of frame pfn was added (page_add_*_rmap). Emitted only while a probe listens. */
  page_mapped: number;
  /** Frame pfn went back to the free list (trace_mm_page_free's place, free_unref_page). Emitted
   *  only while a probe listens (PhysMem.freedSink). */
  page_freed: number;
  /** The last CPU mapping of frame pfn, mm:vpn, was removed (page_remove_rmap to mapcount 0). */
  page_unmapped: { readonly mm: Mm; readonly vpn: number; readonly pfn: number };
  /** mprotect of mm:[start, end) returned; `write`: made writable, else PROT_READ. */
  mprotect_returned: { readonly mm: Mm; readonly start: number; readonly end: number; readonly write: boolean };
  /** set_page_dirty on frame pfn (gup.ts markDirty). */
  page_dirtied: { readonly pfn: number; readonly how: string };
  /** A GPU access reached memory through a translation fetched earlier (gpu-vm.ts `complete`). */
  gpu_dma: {
    readonly who: string;
    readonly write: boolean;
    /** The userptr page the translation stands for, or null. */
    readonly owner: { readonly mm: Mm; readonly vpn: number } | null;
    /** What the translation's install saw of the page's invalidations (device-oracles.ts installStamp). */
    readonly stamp: InstallStamp;
    readonly pfn: number;
  };
  /** A fatal GPU fault: the job is killed (gpu.ts). */
  gpu_fault: {
    readonly who: string;
    readonly job: string;
    readonly va: number;
    readonly write: boolean;
    /** The BOs the job declared (empty: a rogue job). */
    readonly bos: readonly string[];
    /** The VA was bound to a userptr page in this VM. */
    readonly userptr: boolean;
  };
}

export type TraceEvent = keyof TraceEvents;
export type Probe<E extends TraceEvent> = (k: Kernel, data: TraceEvents[E]) => void;
/** Probes by event (register_trace_<event> in the kernel), in the order they run. */
export type Probes = { readonly [E in TraceEvent]: readonly Probe<E>[] };
/** One oracle's probes: only the events it listens to. */
export type OracleProbes = { readonly [E in TraceEvent]?: readonly Probe<E>[] };

/** trace_<event>: call every probe the kernel attached to `event`, inside the current step. */
export function trace<E extends TraceEvent>(k: Kernel, event: E, data: TraceEvents[E]): void {
  const ps = k.probes[event] as readonly Probe<E>[];
  for (let i = 0; i < ps.length; i++) ps[i](k, data);
}

/** Does some probe listen to `event`? For emit sites that would build their data for nobody. */
export function traced(k: Kernel, event: TraceEvent): boolean {
  return k.probes[event].length > 0;
}
