// GPU engines running jobs (kernel-semantics §22). Model of the DRM GPU scheduler
// (drivers/gpu/drm/scheduler: drm_sched_job_init, drm_sched_entity_push_job, drm_sched_main /
// drm_sched_run_job_work, drm_sched_job_timedout, drm_sched_fence_create) and of the hardware
// executing a job: each GPU access goes GPU TLB/PTE -> IOMMU (or none) -> frame (gpu-vm.ts).
//
// Every pushed job becomes an explorer thread "<engine>:<job>" (the hardware plus the scheduler
// thread serving it). It waits for its dependencies and for the previous job of the same engine
// (one ring: fences of one engine signal in order) — scheduler waits, done with fence callbacks
// in the kernel, so no might_sleep and no lockdep — then runs on the fence's SIGNALLING PATH
// (both eras: the `fence-signalling` rule is era-independent; lockdep sees none of it, because
// stock drm_sched never annotated this path: dma-fence.ts signalling_path):
//   ops.run_job -> the accesses, in order -> ops.job_done -> dma_fence_signal(job fence)
// Each access is IN FLIGHT across two steps: the engine fetches the translation (GPU TLB, else
// PTE walk) at one step and the memory access completes at the next step of the job, against
// the translation fetched, whatever the driver did to the PTE or the TLB in between. That is the
// hardware behaviour the mmu_interval_notifier contract is about (include/linux/mmu_notifier.h,
// struct mmu_interval_notifier_ops: "invalidate" must stop device access before it returns; a
// PTE clear plus TLB flush does not recall DMA already issued).
// and afterwards, outside the section, ops.free_job.
// A GPU fault (no GPU PTE, or a write through a read-only one) calls the VM's recoverable fault
// handler if it has one and retries once; otherwise it is fatal: `gpu-fault`, the job stops and
// its fence signals with an error (-ECANCELED; drivers mark the context guilty); on a VA bound to
// a userptr page, for a job that declared BOs, also `userptr-fault` (a finding). An IOMMU fault
// drops the access (`iommu-fault`) and the job continues.
// A hung job (job.hang) does its accesses and never completes: the timeout handler
// (drm_sched_job_timedout -> ops.timedout_job) runs in the same thread, inside the section, and
// the reset signals the fence with -ETIME. With `tdr: false` the fence never signals.
//
// Simplifications: one access in flight at a time per job (fewer windows); the timeout fires "eventually" (untimed);
// the scheduler thread and the hardware are one thread per job (errs towards fewer interleavings
// between the scheduler's own steps, which touch no shared state here).

import { finding, spawn } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, kcall, leave } from "./kernel.ts";
import { GFP_KERNEL } from "./gfp.ts";
import { currentIndex } from "./task.ts";
import { dev_kmalloc } from "./device-oracles.ts";
import { trace } from "./tracepoints.ts";
import { fieldTrip } from "./field-log.ts";
import { DmaFence, ECANCELED, ETIME, dma_fence_init, dma_fence_publish, dma_fence_signal, signalling_path } from "./dma-fence.ts";
import type { GpuPte, GpuVm } from "./gpu-vm.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

/** One GPU access of a job. */
export interface GpuAccess {
  readonly va: number;
  readonly write: boolean;
}

export interface GpuJob {
  readonly name: string;
  readonly vm: GpuVm;
  /** What the job's shaders touch: may exceed its BO list (rogue jobs). */
  readonly accesses: readonly GpuAccess[];
  /** Fences the scheduler waits for before running it (drm_sched_job_add_dependency). */
  readonly deps: DmaFence[];
  /** The BO names it declared (informational: the kernel never checks accesses against it). */
  readonly bos: readonly string[];
  /** The hardware hangs after the accesses; only the timeout handler completes the fence. */
  readonly hang: boolean;
  /** Set by drm_sched_job_init. */
  fence: DmaFence | null;
  /** Outcome, for final(): "done", "fault", "timeout". */
  status: "pending" | "done" | "fault" | "timeout";
}

/** struct drm_sched_backend_ops, the parts drivers hook. All run in the job's thread. */
export interface SchedOps {
  /** Before the hardware starts (inside the signalling section). */
  run_job?(k: Kernel, job: GpuJob): Gen<void>;
  /** The driver's completion work before the fence signals (inside the section; S5's allocation). */
  job_done?(k: Kernel, job: GpuJob): Gen<void>;
  /** Timeout handler (inside the section). */
  timedout_job?(k: Kernel, job: GpuJob): Gen<void>;
  /** After the fence signalled (outside the section). */
  free_job?(k: Kernel, job: GpuJob): Gen<void>;
}

export class GpuEngine {
  /** Fence of the last job pushed (ring order). Changed only by push (a local step of the pusher). */
  private last: DmaFence | null = null;
  private seq = 0;
  constructor(
    readonly k: Kernel,
    readonly name: string,
    readonly ops: SchedOps = {},
    /** Timeout detection and recovery (drm_sched's TDR); false = a hung job hangs forever. */
    readonly tdr = true,
  ) {}
  nextSeq(): number {
    return ++this.seq;
  }
  swapLast(f: DmaFence): DmaFence | null {
    const prev = this.last;
    this.last = f;
    return prev;
  }
}

/** A GPU engine (ring + scheduler). Setup helper. */
export function gpu_engine(k: Kernel, name: string, ops: SchedOps = {}, tdr = true): GpuEngine {
  return new GpuEngine(k, name, ops, tdr);
}

/** A job description (no scheduling point). */
export function gpu_job(name: string, vm: GpuVm, accesses: readonly GpuAccess[], opts: { deps?: DmaFence[]; bos?: readonly string[]; hang?: boolean } = {}): GpuJob {
  return { name, vm, accesses, deps: opts.deps ?? [], bos: opts.bos ?? [], hang: opts.hang ?? false, fence: null, status: "pending" };
}

/**
 * drm_sched_job_init: creates the job's scheduler fence (drm_sched_fence_create, a GFP_KERNEL
 * slab allocation: amdgpu v4.16 did this under the write side of amn->lock).
 */
export function* drm_sched_job_init(k: Kernel, engine: GpuEngine, job: GpuJob, gfp = GFP_KERNEL): Gen<number> {
  const __k = enter(k, "drm_sched_job_init");
  try {
    if (!(yield* dev_kmalloc(k, gfp, "drm_sched_fence_create"))) return -12;
    job.fence = dma_fence_init(k, `${engine.name}:${job.name}.fence`, undefined, engine.nextSeq());
    return 0;
  } finally {
    leave(__k);
  }
}

/**
 * drm_sched_entity_push_job: the job is queued; its fence is now visible (its signalling section
 * has begun) and its thread exists. Call drm_sched_job_init first.
 */
export function* drm_sched_entity_push_job(k: Kernel, engine: GpuEngine, job: GpuJob): Gen<void> {
  const fence = job.fence;
  if (!fence) throw new Error(`drm_sched_entity_push_job(${job.name}) before drm_sched_job_init: call drm_sched_job_init(k, engine, job) first.`);
  dma_fence_publish(fence);
  const prev = engine.swapLast(fence);
  yield* spawn(`${engine.name}:${job.name}`, () => runJob(k, engine, job, prev));
}

function* schedWait(f: DmaFence, why: string): Gen<void> {
  // A scheduler dependency: completion callback, not a sleeping wait by a task. It only reads
  // the fence (DmaFence.read): two jobs waiting for one fence commute.
  yield* f.read(`drm_sched: wait ${why} ${f.name}`, () => undefined, () => f.signalled);
}

/**
 * The fetch step of one access. A fatal fault is `gpu-fault` (informational: the hardware refused
 * the access and the job is killed) and is traced (`gpu_fault`): device-oracles.ts reports
 * `userptr-fault` when the VA was bound to a userptr page and the job declared BOs.
 */
function fetchOrFault(job: GpuJob, a: GpuAccess, who: string, fatal: boolean): GpuPte | "gpu-fault" {
  const e = job.vm.fetch(a.va, a.write);
  if (e !== "gpu-fault" || !fatal) return e;
  // The fault path reaches what no wrapper records (the VM's userptr VAs, the probes): a split
  // fetch falls back to all of memory.
  fieldTrip(job.vm.k.mem.fields);
  finding("gpu-fault", `fatal GPU fault: ${who} has no ${a.write ? "writable " : ""}GPU translation; the job is killed`, { job: job.name, va: a.va, write: a.write });
  trace(job.vm.k, "gpu_fault", { who, job: job.name, va: a.va, write: a.write, bos: job.bos, userptr: job.vm.wasUserptr(a.va) });
  return e;
}

function* runJob(k: Kernel, engine: GpuEngine, job: GpuJob, prev: DmaFence | null): Gen<void> {
  const fence = job.fence!;
  fence.signaller = currentIndex();
  for (const d of job.deps) yield* schedWait(d, "dependency");
  if (prev) yield* schedWait(prev, "previous job on the ring");
  const ops = engine.ops;
  // A module-level generator behind an arrow, not a generator closure: see Kernel.devState.
  yield* signalling_path(k, () => runJobSignalled(k, engine, ops, job, fence));
  if (ops.free_job) yield* kcall(k, `${engine.name}.free_job`, () => ops.free_job!(k, job));
}

/** The part of runJob inside the fence signalling section. */
function* runJobSignalled(k: Kernel, engine: GpuEngine, ops: GpuEngine["ops"], job: GpuJob, fence: DmaFence): Gen<void> {
  if (ops.run_job) yield* kcall(k, `${engine.name}.run_job`, () => ops.run_job!(k, job));
  let error = 0;
  for (const a of job.accesses) {
    const who = `${engine.name}:${job.name} ${a.write ? "write" : "read"} VA ${a.va}`;
    // Both halves of an access are split (field footprints): the fetch touches the GPU PTE and TLB
    // and the frame's hardware count; the completion the frame, the PTEs and the oracles' records
    // (vm.complete trips behind an IOMMU). The fault handler is read here, outside the step: it
    // is set at setup, and field footprints trip on it inside a split step.
    const fatal = job.vm.faultHandler === null;
    let r = yield* k.mem.fieldStep(`${who}: fetch translation`, "w", () => fetchOrFault(job, a, who, fatal));
    if (r === "gpu-fault" && job.vm.faultHandler) {
      const fixed = yield* kcall(k, `${job.vm.name} recoverable fault handler`, () => job.vm.faultHandler!(k, job.vm, a.va, a.write));
      // The engine replays the access; if the handler could not fix it, the fault is fatal.
      r = yield* k.mem.fieldStep(`${who}: fetch translation (${fixed ? "retry" : "unrecoverable"})`, "w", () => fetchOrFault(job, a, who, true));
    }
    if (r === "gpu-fault") {
      error = ECANCELED;
      job.status = "fault";
      break;
    }
    // The access is in flight on translation r; it reaches memory at this later step.
    const e = r;
    yield* k.mem.fieldStep(who, "w", () => job.vm.complete(e, a.write, who));
  }
  if (job.hang && error === 0) {
    if (!engine.tdr) {
      job.status = "timeout";
      // Hangs forever: the fence is never signalled (fence-never-signalled at quiescence).
      return;
    }
    const __k = enter(k, "drm_sched_job_timedout");
    try {
      if (ops.timedout_job) yield* kcall(k, `${engine.name}.timedout_job`, () => ops.timedout_job!(k, job));
    } finally {
      leave(__k);
    }
    job.status = "timeout";
    error = ETIME;
  }
  if (ops.job_done) yield* kcall(k, `${engine.name}.job_done`, () => ops.job_done!(k, job));
  if (job.status === "pending") job.status = "done";
  yield* dma_fence_signal(k, fence, error);
}
