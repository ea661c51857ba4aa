// The simulated kernel of one execution: its era, lockdep graph, tasks, physical memory,
// page locks, address spaces, files and swap. boot() is called inside a model's setup, so
// every execution starts from fresh state, its lockdep graph included: a graph shared across
// executions made a report depend on the order the search visits them (chapter 09's C09.5-now,
// December 2026), so boot() takes no graph from outside (test/build/fresh-lockdep.test.ts).
// What a real boot learns before the test (a driver priming edges) is a step of the setup:
// k.lockdep.prime(...).

import { stateView, subscribed, type Yieldable } from "../explorer/index.ts";
import type { Era } from "./era.ts";
import { Lockdep } from "./lockdep.ts";
import { PhysMem } from "./page.ts";
import { PageLock } from "./page-lock.ts";
import { Tasks, type Task } from "./task.ts";
import { OracleState } from "./oracles.ts";
import { attachOracles } from "./oracle-probes.ts";
import { trace, traced, type Probes } from "./tracepoints.ts";
import { KRwSem } from "./rwsem.ts";
import type { Mm } from "./mm.ts";
import type { KFile } from "./file.ts";
import type { Swap } from "./swap.ts";
import type { ReclaimPolicy } from "./gfp.ts";
import type { Shrinker } from "./shrinker.ts";
import type { PlantedBug } from "./planted.ts";
import { kernelView, type ViewedDevices } from "./view.ts";
import type { DeviceEra } from "./device-era.ts";
import type { DeviceState } from "./device-oracles.ts";
import type { WwClass } from "./ww-mutex.ts";

export interface BootOptions {
  /** Physical frames, including the zero page (pfn 0). Default DEFAULT_FRAMES. */
  readonly frames?: number;
  /**
   * Where allocations may enter direct reclaim (kernel-semantics §13, §15):
   *  "never"  – allocations always succeed without reclaim (default; keeps models small);
   *  "choose" – every allocation that may direct-reclaim asks the explorer whether it does;
   *  "always" – every such allocation runs direct reclaim once.
   */
  readonly reclaim?: ReclaimPolicy;
  /** Frames reclaim may pick, or all LRU frames when absent. Restrict it to keep models small. It
   *  runs inside reclaim's split scan step (vmscan.ts): a constant list, or one read from recorded
   *  state only (field footprints, lib/kernel/README.md). */
  readonly reclaimCandidates?: () => readonly number[];
  /** mmu_gather batch size: a forced flush (and free) when this many pages are queued. Default
   *  unlimited (the real batch holds hundreds of pages); 1 reproduces "freed before range_end". */
  readonly gatherBatch?: number;
  /** May __GFP_NORETRY / __GFP_RETRY_MAYFAIL / no-reclaim allocations fail (explored)? Default false. */
  readonly allocMayFail?: boolean;
  /** Deliberate kernel bugs for what-ifs and regression tests (planted.ts). Default none. */
  readonly planted?: readonly PlantedBug[];
  /**
   * The machine, not the era: does a TLB flush wait for a CPU that is inside GUP-fast? true
   * (default) = native x86, where the flush is an IPI and GUP-fast runs with IRQs off, so
   * pmdp_collapse_flush cannot return while a GUP-fast that read the old PMD is still running.
   * false = architectures that invalidate without an IPI (broadcast TLBI: arm64, s390; powerpc
   * radix only from bedf03416913, 2022), and x86 guests whose paravirt flush is a hypercall: GUP-fast can read a PTE of a table that
   * khugepaged then detaches, and take its reference after khugepaged's refcount check
   * (70cbc3cc78a9's race; closed by the era switch gupFastPmdRecheck).
   */
  readonly tlbFlushWaitsForGupFast?: boolean;
}

/** Default number of frames: enough for the canonical scenarios. */
export const DEFAULT_FRAMES = 24;

export class Kernel {
  readonly tasks = new Tasks();
  readonly lockdep: Lockdep;
  readonly mem: PhysMem;
  /** Page locks, created on first use (deterministically: in schedule order). */
  private readonly pageLocks: (PageLock | undefined)[] = [];
  readonly mms: Mm[] = [];
  readonly files: KFile[] = [];
  swap: Swap | null = null;
  readonly shrinkers: Shrinker[] = [];
  readonly reclaim: ReclaimPolicy;
  readonly reclaimCandidates: (() => readonly number[]) | undefined;
  readonly allocMayFail: boolean;
  readonly oracle: OracleState;
  /** The oracles' probes on the tracepoints (tracepoints.ts), as attached at boot for the claims
   *  of the running search (oracle-probes.ts). */
  readonly probes: Probes;
  /** Device mappings carry install stamps (device-oracles.ts installStamp). */
  readonly deviceStamps: boolean;
  /** deviceWrite checks cross-mm-write (oracle-probes.ts AttachedOracles). */
  readonly crossMmWrite: boolean;
  readonly gatherBatch: number;
  /** Planted bugs (planted.ts): empty for the real kernel. */
  readonly planted: readonly PlantedBug[];
  /** shrinker_rwsem (2018 shrink_slab takes it with down_read_trylock); null in eras without it. */
  readonly shrinkerRwsem: KRwSem | null;
  /** BootOptions.tlbFlushWaitsForGupFast (the machine). */
  readonly tlbFlushWaitsForGupFast: boolean;
  /**
   * Per-execution state of the device half, each created on first use by the module that owns it
   * (device-era.ts, device-oracles.ts, view.ts, ww-mutex.ts). Fields of the kernel, not
   * module-level WeakMaps keyed by it: V8's young-generation GC cannot tell that a WeakMap
   * entry's key died, so every execution's kernel (and all it reaches) was copied and promoted
   * to the old generation, to be freed only by a full mark-compact (a quarter of all allocation
   * on the kernel claims). Nothing else reads them.
   */
  devEra: DeviceEra | undefined = undefined;
  devState: DeviceState | undefined = undefined;
  viewedDevices: ViewedDevices | undefined = undefined;
  wwClasses: Map<string, WwClass> | undefined = undefined;

  constructor(
    readonly era: Era,
    opts: BootOptions = {},
  ) {
    this.lockdep = new Lockdep(era, subscribed("lockdep"));
    const n = opts.frames ?? DEFAULT_FRAMES;
    this.mem = new PhysMem(n);
    this.oracle = new OracleState(n, this.mem.fields);
    this.planted = opts.planted ?? [];
    const o = attachOracles(this);
    this.probes = o.probes;
    this.deviceStamps = o.deviceStamps;
    this.crossMmWrite = o.crossMmWrite;
    // The page_freed tracepoint (tracepoints.ts): PhysMem emits it only while a probe listens.
    if (traced(this, "page_freed")) this.mem.freedSink = this;
    this.reclaim = opts.reclaim ?? "never";
    this.reclaimCandidates = opts.reclaimCandidates;
    this.allocMayFail = opts.allocMayFail ?? false;
    this.gatherBatch = opts.gatherBatch ?? Infinity;
    this.shrinkerRwsem = era.shrinkerRwsem ? new KRwSem(this, "shrinker_rwsem") : null;
    this.tlbFlushWaitsForGupFast = opts.tlbFlushWaitsForGupFast ?? true;
  }

  /** The page_freed tracepoint, from PhysMem.freeFrame (PhysMem.freedSink). */
  pageFreed(pfn: number): void {
    trace(this, "page_freed", pfn);
  }

  /** `current`: the task running now. */
  current(): Task {
    return this.tasks.current();
  }

  /** The page lock of frame pfn. */
  pageLock(pfn: number): PageLock {
    return (this.pageLocks[pfn] ??= new PageLock(this, pfn));
  }
}

/** Boot a kernel of the given era. Call inside a model's setup function. */
export function boot(era: Era, opts: BootOptions = {}): Kernel {
  const k = new Kernel(era, opts);
  // The witness's state panel (view.ts); called only when the book replays a witness.
  stateView(() => kernelView(k));
  return k;
}

/**
 * Run `body` as the kernel function `name`: the name shows in traces (explorer call frames)
 * and in lockdep's "where" of every edge made inside it.
 */
export function* kcall<T>(k: Kernel, name: string, body: () => Generator<Yieldable, T, unknown>): Generator<Yieldable, T, unknown> {
  // Same effect as the explorer's call(name, body) (the frame list IS the explorer's), without
  // its per-call runtime lookup: kcall is on the hot path.
  const frames = k.current().frames;
  frames.push(name);
  try {
    return yield* body();
  } finally {
    frames.pop();
  }
}

/**
 * enter/leave: kcall without the extra generator level, for the kernel's own functions (each
 * `yield*` level is paid on every resumption, and kernel call chains are deep):
 *   const __f = enter(k, "unmap_vmas"); try { ... } finally { leave(__f); }
 */
export function enter(k: Kernel, name: string): string[] {
  const frames = k.current().frames;
  frames.push(name);
  return frames;
}
export function leave(frames: string[]): void {
  frames.pop();
}
