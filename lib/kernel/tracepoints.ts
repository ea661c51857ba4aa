// Tracepoints: the machine's mechanics announce what happened, the oracles listen (issue 14).
// In the spirit of the kernel's TRACE_EVENT()s (include/trace/events/): the code that moves a
// translation or reaches a frame calls trace(k, "event", data) at the point the kernel would
// call trace_event(...), inside the memory step; each oracle registers a probe with
// register_trace("event", probe) once, at module load, and reports findings from it. A new
// oracle is then a new probe, not an edit of the mechanism it watches.
//
// Probes run synchronously inside the emitting step (findings they report belong to that step)
// and must not yield. The registry holds functions only; all state a probe keeps lives on the
// Kernel (per execution), as lib/ requires.

import type { Kernel } from "./kernel.ts";
import type { Mm } from "./mm.ts";

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
type Probe<E extends TraceEvent> = (k: Kernel, data: TraceEvents[E]) => void;

const probes: { [E in TraceEvent]: Map<string, Probe<E>> } = { gpu_dma: new Map(), gpu_fault: new Map() };

/** register_trace_<event>: attach a named probe (re-registering a name replaces it). */
export function register_trace<E extends TraceEvent>(event: E, name: string, probe: Probe<E>): void {
  (probes[event] as Map<string, Probe<E>>).set(name, probe);
}

/** trace_<event>: call every probe of `event`, inside the current step. */
export function trace<E extends TraceEvent>(k: Kernel, event: E, data: TraceEvents[E]): void {
  for (const p of (probes[event] as Map<string, Probe<E>>).values()) p(k, data);
}
