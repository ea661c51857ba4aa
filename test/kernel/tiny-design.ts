// A tiny interval-notifier userptr design for the conformance harness (conformance.test.ts) and
// the oracle subscriptions (subscriptions.test.ts): correct with "none", else one line broken.
import { SharedVar, type Yieldable } from "../../lib/explorer/index.ts";
import type { Kernel } from "../../lib/kernel/kernel.ts";
import { mmap_read_lock, mmap_read_unlock, type Mm } from "../../lib/kernel/mm.ts";
import { KMutex } from "../../lib/kernel/mutex.ts";
import { MmuIntervalNotifier, mmu_interval_notifier_insert_at_setup, mmu_interval_read_begin, mmu_interval_read_retry, mmu_interval_set_seq } from "../../lib/kernel/mmu-notifier.ts";
import { EBUSY, hmm_range_fault } from "../../lib/kernel/hmm.ts";
import { trackIntervalNotifier } from "../../lib/kernel/device-oracles.ts";
import { dma_device } from "../../lib/kernel/dma-mapping.ts";
import { gpuvm_create, gpuvm_map, gpuvm_unmap, gpuvm_tlb_flush } from "../../lib/kernel/gpu-vm.ts";
import { gpu_engine, gpu_job, drm_sched_job_init, drm_sched_entity_push_job } from "../../lib/kernel/gpu.ts";
import { dma_fence_wait, type DmaFence } from "../../lib/kernel/dma-fence.ts";
import { KRwSem } from "../../lib/kernel/rwsem.ts";
import type { ConformanceBuffer } from "../../lib/kernel/conformance.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;
export type Bug = "none" | "no-retry" | "retry-unlocked" | "no-stop" | "no-wait" | "push-after-unlock" | "rwlock" | "rwlock-read-both"
  | "skip-set-seq" | "blocks" | "alloc-under-lock" | "wait-vm";

/** A tiny mni design: set_seq + wait + unmap under one lock; read_begin, fault, lock, read_retry, map, push. */
export function tiny(bug: Bug) {
  return (k: Kernel, mm: Mm): ConformanceBuffer => {
    const vm = gpuvm_create(k, "vm", dma_device(k, "gpu", "none"));
    const gfx = gpu_engine(k, "gfx");
    const mutex = new KMutex(k, "drv->notifier_lock");
    const rw = new KRwSem(k, "drv->notifier_rwlock");
    // "rwlock": i915 v5.13–v6.8's shape, write side around set_seq, read side around read_retry.
    const lock = bug === "rwlock" || bug === "rwlock-read-both"
      ? { lock: () => (bug === "rwlock" ? rw.downWrite() : rw.downRead()), unlock: () => (bug === "rwlock" ? rw.upWrite() : rw.upRead()) }
      : mutex;
    const rlock = bug === "rwlock" || bug === "rwlock-read-both" ? { lock: () => rw.downRead(), unlock: () => rw.upRead() } : mutex;
    // The buffer's reservation: a SharedVar, so that publishing the fence is a step of its own.
    const resv = new SharedVar<DmaFence | null>("bo->resv", null);
    // The VM's reservation: every job of the VM, listed or not ("wait-vm" waits on it).
    const vmResv = new SharedVar<DmaFence | null>("vm->resv", null);
    let mapped = false;
    const sub: MmuIntervalNotifier = new MmuIntervalNotifier(0, 1, trackIntervalNotifier(k, {
      name: "tiny",
      *invalidate(s, r, cur) {
        if (!r.blockable && bug !== "blocks") return false;
        yield* lock.lock();
        if (bug !== "skip-set-seq" || mapped) yield* mmu_interval_set_seq(k, s, cur);
        if (mapped && bug !== "no-stop") {
          const last = yield* (bug === "wait-vm" ? vmResv : resv).read("dma_resv_wait_timeout");
          if (last && bug !== "no-wait") yield* dma_fence_wait(k, last);
          yield* gpuvm_unmap(k, vm, 0, 1);
          yield* gpuvm_tlb_flush(k, vm);
          mapped = false;
        }
        yield* lock.unlock();
        return true;
      },
    }));
    mmu_interval_notifier_insert_at_setup(k, sub, mm);
    return {
      *submit(name) {
        for (let tries = 0; tries < 3; tries++) {
          const seq = yield* mmu_interval_read_begin(k, sub);
          const pfns = new Int32Array(1).fill(-1);
          yield* mmap_read_lock(mm);
          const r = yield* hmm_range_fault(k, { notifier: sub, notifier_seq: seq, start: 0, end: 1, hmm_pfns: pfns, fault: true, write: true });
          yield* mmap_read_unlock(mm);
          if (r === EBUSY) continue;
          if (r !== 0) return r;
          if (bug === "retry-unlocked" && (yield* mmu_interval_read_retry(k, sub, seq))) continue;
          const job = gpu_job(name, vm, [{ va: 0, write: true }], { bos: ["userptr"] });
          if (bug !== "alloc-under-lock") yield* drm_sched_job_init(k, gfx, job);
          yield* rlock.lock();
          if (bug === "alloc-under-lock") yield* drm_sched_job_init(k, gfx, job);
          if (bug !== "no-retry" && bug !== "retry-unlocked" && (yield* mmu_interval_read_retry(k, sub, seq))) {
            yield* rlock.unlock();
            continue;
          }
          yield* gpuvm_map(k, vm, 0, pfns[0], true, { mm, vpn: 0 });
          mapped = true;
          if (bug === "push-after-unlock") {
            // The fence is published and the job pushed once the lock is dropped: a callback in
            // between finds nothing to wait for and tears the mapping down under the job.
            yield* rlock.unlock();
            yield* resv.write(job.fence, "dma_resv_add_fence");
            yield* drm_sched_entity_push_job(k, gfx, job);
            return 0;
          }
          yield* resv.write(job.fence, "dma_resv_add_fence");
          // Only the "wait-vm" callback reads the VM's reservation: a step fewer for the others.
          if (bug === "wait-vm") yield* vmResv.write(job.fence, "dma_resv_add_fence(vm)");
          yield* drm_sched_entity_push_job(k, gfx, job);
          yield* rlock.unlock();
          return 0;
        }
        return -11;
      },
      *wait() {
        const last = yield* resv.read("wait ioctl");
        if (last) yield* dma_fence_wait(k, last);
      },
      // A job of the same VM that writes the buffer's VA and lists nothing: fenced on the VM only.
      *rogue(name) {
        const job = gpu_job(name, vm, [{ va: 0, write: true }]);
        yield* drm_sched_job_init(k, gfx, job);
        yield* rlock.lock();
        yield* vmResv.write(job.fence, "dma_resv_add_fence(vm)");
        yield* drm_sched_entity_push_job(k, gfx, job);
        yield* rlock.unlock();
        return 0;
      },
    };
  };
}
