// chapters.md C07.9 / C07.10 shape (now only): an `mni` userptr (interval notifier + hmm_range_fault,
// no page references). The callback sets the seq and waits either for the whole VM's fences
// (amdgpu-now: VM root resv, BOOKKEEP) or only for the BO's own fences (≈v5.5 amdgpu). A rogue
// job J2 that does not list the BO keeps writing through the GPU PTE.
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { KMutex } from "../../lib/kernel/mutex.ts";
import { MmuIntervalNotifier, mmu_interval_read_begin, mmu_interval_read_retry, mmu_interval_set_seq } from "../../lib/kernel/mmu-notifier.ts";
import { mmap_read_lock, mmap_read_unlock } from "../../lib/kernel/mm.ts";
import { hmm_range_fault } from "../../lib/kernel/hmm.ts";
import { munmap } from "../../lib/kernel/munmap.ts";
import { dma_device } from "../../lib/kernel/dma-mapping.ts";
import { gpuvm_create, gpuvm_map } from "../../lib/kernel/gpu-vm.ts";
import { drm_sched_entity_push_job, drm_sched_job_init, gpu_engine, gpu_job } from "../../lib/kernel/gpu.ts";
import { dma_resv_add_fence, dma_resv_init, dma_resv_lock, dma_resv_reserve_fences, dma_resv_unlock, dma_resv_wait_timeout, type DmaResv } from "../../lib/kernel/dma-resv.ts";
import type { DmaFence } from "../../lib/kernel/dma-fence.ts";
import { trackIntervalNotifier } from "../../lib/kernel/device-oracles.ts";
import { anonProcess, insertIntervalAtSetup } from "./setup.ts";

function mni(waitVm: boolean) {
  return model(`mni ${waitVm ? "VM-root wait" : "BO-only wait"}`, () => {
    const k = boot(ENOW);
    const { mm } = anonProcess(k, 1);
    const vm = gpuvm_create(k, "vm", dma_device(k, "gpu", "none"));
    const gfx = gpu_engine(k, "gfx");
    const nl = new KMutex(k, "adev->notifier_lock");
    const bo = dma_resv_init(k, "bo"), root = dma_resv_init(k, "vm.root");
    const sub = new MmuIntervalNotifier(0, 1, trackIntervalNotifier(k, {
      name: "amdgpu_hmm",
      *invalidate(s, _range, cur) {
        yield* nl.lock();
        yield* mmu_interval_set_seq(k, s, cur);
        yield* dma_resv_wait_timeout(k, waitVm ? root : bo, "BOOKKEEP");
        yield* nl.unlock();
        return true;
      },
    }));
    insertIntervalAtSetup(mm, sub);
    function* addFence(r: DmaResv, f: DmaFence) {
      yield* dma_resv_lock(k, r, null);
      yield* dma_resv_reserve_fences(k, r, 1);
      yield* dma_resv_add_fence(k, r, f, "BOOKKEEP");
      yield* dma_resv_unlock(k, r);
    }
    return {
      threads: {
        CS: function* () {
          const seq = yield* mmu_interval_read_begin(k, sub);
          const range = { notifier: sub, notifier_seq: seq, start: 0, end: 1, hmm_pfns: new Int32Array(1).fill(-1), fault: true, write: true };
          yield* mmap_read_lock(mm);
          const r = yield* hmm_range_fault(k, range);
          yield* mmap_read_unlock(mm);
          if (r !== 0) return;
          yield* nl.lock();
          if (yield* mmu_interval_read_retry(k, sub, seq)) return yield* nl.unlock();
          yield* gpuvm_map(k, vm, 0, range.hmm_pfns[0], true, { mm, vpn: 0 });
          const j1 = gpu_job("J1", vm, [{ va: 0, write: true }], { bos: ["userptr"] });
          const j2 = gpu_job("J2", vm, [{ va: 0, write: true }]);
          yield* drm_sched_job_init(k, gfx, j1);
          yield* drm_sched_job_init(k, gfx, j2);
          yield* addFence(bo, j1.fence!);
          yield* addFence(root, j1.fence!);
          yield* addFence(root, j2.fence!);
          yield* drm_sched_entity_push_job(k, gfx, j1);
          yield* drm_sched_entity_push_job(k, gfx, j2);
          yield* nl.unlock();
        },
        CPU: function* () { yield* munmap(k, mm, 0, 1); },
      },
    };
  });
}

const accessUaf = (e: { findings: readonly { kind: string; data?: unknown }[] }) => e.findings.some((f) => f.kind === "uaf" && (f.data as { via?: string }).via === "device");

describe("mni userptr with a rogue job (C07.9, C07.10)", () => {
  it("waiting on the VM root resv covers every job: no GPU write after the callback, no access to a freed page", () => {
    const m = mni(true);
    claim({ title: "stray-write", model: m, predicate: (e) => e.has("stray-write"), expect: "Never" });
    claim({ title: "access uaf", model: m, predicate: accessUaf, expect: "Never" });
  }, 60_000);
  it("waiting on the BO's resv only: the rogue job writes after the callback returned and reaches the freed page", () => {
    const m = mni(false);
    claim({ title: "stray-write", model: m, predicate: (e) => e.has("stray-write"), expect: "Sometimes" });
    claim({ title: "access uaf", model: m, predicate: accessUaf, expect: "Sometimes" });
  }, 60_000);
});
