// Which oracles a kernel runs. Every oracle is a set of probes on the machine's tracepoints
// (tracepoints.ts) and the finding kinds it reports; at boot a kernel attaches the oracles whose
// kinds some claim of the running search reads (subscribed(), lib/explorer/subscriptions.ts), in
// the order below, and the others keep no state: their bookkeeping (an in-flight invalidation
// count per page, the installs made during one, a mark on a frame) then adds no dependency between
// steps, which under DPOR is fewer interleavings for the claims that do not read them.
//
// Which oracles may be left out: only those whose findings never end an execution (no
// { end: true }: leaving one out would change the explored tree) and whose state no thread reads.
// Every oracle here qualifies; bad-unlock, the only kind that ends an execution, is reported by
// the locks themselves and is always on, as is every finding reported outside this table except
// cross-mm-write, which deviceWrite checks only when attached (AttachedOracles.crossMmWrite).
// test/kernel/subscriptions.test.ts checks both ways that the schedule does not depend on it.

import { subscribed } from "../explorer/index.ts";
import { CALLBACK_RETURNS, DEVICE_ACCESS, INVALIDATION_BEGAN, USERPTR_FAULT } from "./device-oracles.ts";
import { DIRTY_AFTER_RETURN, INVALIDATIONS_IN_FLIGHT, RO_WRITE, STALE_INSTALL } from "./oracles.ts";
import type { Kernel } from "./kernel.ts";
import { planted } from "./planted.ts";
import type { OracleProbes, Probe, Probes, TraceEvent } from "./tracepoints.ts";

/** What a kernel attached (Kernel.probes, Kernel.deviceStamps, Kernel.crossMmWrite). */
export interface AttachedOracles {
  readonly probes: Probes;
  /** Device mappings carry an install stamp (stray-write, stray-read, stale-access compare them). */
  readonly deviceStamps: boolean;
  /** deviceWrite checks cross-mm-write (oracles.ts): it keeps no state, but reads every PTE of
   *  every mm, which under field footprints ordered each device write against every PTE change. */
  readonly crossMmWrite: boolean;
}

const EVENTS: readonly TraceEvent[] = Object.freeze(["mm_invalidate_start", "mm_invalidate_end", "device_map_installed", "device_map_removed", "callback_returned", "page_mapped", "page_unmapped", "page_freed", "mprotect_returned", "page_dirtied", "gpu_dma", "gpu_fault"] as const);

/** The oracles, in the order their probes run: a probe may read state an earlier one keeps
 *  (stale-install reads the count INVALIDATIONS_IN_FLIGHT has just decremented). */
const ORACLES: readonly OracleProbes[] = Object.freeze([INVALIDATIONS_IN_FLIGHT, STALE_INSTALL, DIRTY_AFTER_RETURN, INVALIDATION_BEGAN, CALLBACK_RETURNS, DEVICE_ACCESS, USERPTR_FAULT, RO_WRITE]);

const NONE: readonly Probe<never>[] = Object.freeze([]);

/** The oracles of the running execution's subscriptions. Called once per boot, in setup (k.planted set). */
export function attachOracles(k: Kernel): AttachedOracles {
  const on = (...kinds: string[]): boolean => kinds.some(subscribed);
  // attach[i]: ORACLES[i] is attached.
  const attach = [
    planted(k, "oracle-half-attached") ? on("stale-install") : on("stale-install", "dirty-after-return"),
    on("stale-install"),
    on("dirty-after-return"),
    on("stale-access"),
    on("stray-write", "stray-read"),
    on("stray-write", "stray-read", "stale-access"),
    on("userptr-fault"),
    on("ro-write"),
  ];
  // A kernel is booted for every execution: an event that one oracle probes shares that oracle's
  // frozen list, and only an event several oracles probe gets a list of its own.
  const probes: Record<string, readonly Probe<never>[]> = {};
  for (const e of EVENTS) {
    let list = NONE;
    for (let i = 0; i < ORACLES.length; i++) {
      const ps = attach[i] ? (ORACLES[i][e] as readonly Probe<never>[] | undefined) : undefined;
      if (ps !== undefined && ps.length > 0) list = list === NONE ? ps : [...list, ...ps];
    }
    probes[e] = list;
  }
  return { probes: probes as unknown as Probes, deviceStamps: on("stray-write", "stray-read", "stale-access"), crossMmWrite: on("cross-mm-write") };
}
