// Tracepoints: the machine's mechanics announce what happened, the oracles listen (issue 14).
// In the spirit of the kernel's TRACE_EVENT()s (include/trace/events/): the code that moves a
// translation or reaches a frame calls trace(k, "event", data) at the point the kernel would
// call trace_event(...), inside the memory step; each oracle module exports a frozen table of
// probes by event (device-oracles.ts DEVICE_PROBES), which trace() below calls, and reports
// findings from them. A new oracle is then a new probe, not an edit of the mechanism it watches.
// A table, not register_trace(): a registry filled at run time would be module state, which lib/
// must not keep (it is shared by a chapter's units; test/build/module-state.test.ts), and a
// chapter could register a probe that outlived its unit.
//
// Probes run synchronously inside the emitting step (findings they report belong to that step)
// and must not yield. All state a probe keeps lives on the Kernel (per execution).

import type { Kernel } from "./kernel.ts";
import type { Mm } from "./mm.ts";
import { DEVICE_PROBES } from "./device-oracles.ts";

export interface TraceEvents {
  /** A GPU access reached memory through a translation fetched earlier (gpu-vm.ts `complete`). */
  gpu_dma: {
    readonly who: string;
    readonly write: boolean;
    /** The userptr page the translation stands for, or null. */
    readonly owner: { readonly mm: Mm; readonly vpn: number } | null;
    /** Device-oracle epoch at which the translation was installed. */
    readonly epoch: number;
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
/** An oracle module's probes (register_trace_<event> in the kernel), in the order they run. */
export type Probes = { readonly [E in TraceEvent]: readonly Probe<E>[] };

/** trace_<event>: call every probe of `event`, inside the current step. */
export function trace<E extends TraceEvent>(k: Kernel, event: E, data: TraceEvents[E]): void {
  for (const p of DEVICE_PROBES[event] as readonly Probe<E>[]) p(k, data);
}
