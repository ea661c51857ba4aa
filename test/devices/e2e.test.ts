// End to end across CPU, IOMMU and GPU: a userptr buffer written by GPU jobs while the process
// unmaps it (chapters.md ch07 SC07a shape). Designs: "keep" (amdgpu-2018: the callback waits for
// the BO's fences and leaves GPU PTEs, DMA mapping and page refs), "teardown" (i915-2018-mn after
// 7938d61591d3: wait, clear GPU PTEs, flush the GPU TLB, dma_unmap_sg, put_page) and
// "teardown-no-tlb-flush" (i915 before 2022). J1 lists the BO; J2 is a rogue job that does not.
import { describe, expect, it } from "vitest";
import { check, claim, model, SharedVar } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, type Era } from "../../lib/kernel/era.ts";
import { KMutex } from "../../lib/kernel/mutex.ts";
import { MmuNotifier } from "../../lib/kernel/mmu-notifier.ts";
import { mmap_read_lock, mmap_read_unlock } from "../../lib/kernel/mm.ts";
import { FOLL_WRITE, get_user_pages, put_page } from "../../lib/kernel/gup.ts";
import { munmap } from "../../lib/kernel/munmap.ts";
import { dma_device, dma_map_sg, dma_unmap_sg, sg_alloc_table_from_pages, type SgTable } from "../../lib/kernel/dma-mapping.ts";
import { gpuvm_create, gpuvm_map_sgt, gpuvm_tlb_flush, gpuvm_unmap } from "../../lib/kernel/gpu-vm.ts";
import { drm_sched_entity_push_job, drm_sched_job_init, gpu_engine, gpu_job } from "../../lib/kernel/gpu.ts";
import { dma_fence_wait, type DmaFence } from "../../lib/kernel/dma-fence.ts";
import { fq_flush_timeout, type IommuMode } from "../../lib/kernel/iommu.ts";
import { trackNotifier } from "../../lib/kernel/device-oracles.ts";
import { anonProcess, registerAtSetup } from "./setup.ts";

type Design = "keep" | "teardown" | "teardown-no-tlb-flush";

export function userptrModel(design: Design, era: Era, iommu: IommuMode, rogue = true) {
  return model(`userptr e2e ${design} ${era.name} ${iommu}${rogue ? "" : " no rogue job"}`, () => {
    const k = boot(era);
    const { mm } = anonProcess(k, 1);
    const dev = dma_device(k, "gpu", iommu);
    const vm = gpuvm_create(k, "vm", dev);
    const gfx = gpu_engine(k, "gfx");
    const lock = new KMutex(k, "drv->notifier_lock");
    // Driver-private state behind `lock`.
    const bound = new SharedVar<{ sgt: SgTable; pages: number[] } | null>("bo.pages", null);
    const boFence = new SharedVar<DmaFence | null>("bo.fence", null);
    const sub = new MmuNotifier(trackNotifier(k, {
      name: "drv_mn",
      *invalidate_range_start() {
        yield* lock.lock();
        const f = yield* boFence.read();
        if (f) yield* dma_fence_wait(k, f);
        const b = yield* bound.read();
        if (b && design !== "keep") {
          yield* gpuvm_unmap(k, vm, 0, 1);
          if (design === "teardown") yield* gpuvm_tlb_flush(k, vm);
          yield* dma_unmap_sg(k, dev, b.sgt);
          for (const p of b.pages) yield* put_page(k, p);
          yield* bound.write(null);
        }
        yield* lock.unlock();
      },
    }));
    registerAtSetup(mm, sub);
    const threads: Record<string, () => Generator<any, unknown, unknown>> = {
      CS: function* () {
        // Holding mmap_lock from GUP to push isolates the teardown question from the S2 window.
        yield* mmap_read_lock(mm);
        const pages: number[] = [];
        const n = yield* get_user_pages(k, mm, 0, 1, FOLL_WRITE, pages);
        if (n !== 1) return yield* mmap_read_unlock(mm);
        const sgt = sg_alloc_table_from_pages("userptr.sgt", pages);
        yield* dma_map_sg(k, dev, sgt);
        yield* lock.lock();
        yield* gpuvm_map_sgt(k, vm, 0, sgt, [{ mm, vpn: 0 }]);
        yield* bound.write({ sgt, pages });
        const j1 = gpu_job("J1", vm, [{ va: 0, write: true }], { bos: ["userptr"] });
        yield* drm_sched_job_init(k, gfx, j1);
        yield* boFence.write(j1.fence);
        yield* drm_sched_entity_push_job(k, gfx, j1);
        // The rogue job: same VM, does not list the BO, so nobody waits for it.
        if (!rogue) { yield* lock.unlock(); return yield* mmap_read_unlock(mm); }
        const j2 = gpu_job("J2", vm, [{ va: 0, write: true }]);
        yield* drm_sched_job_init(k, gfx, j2);
        yield* drm_sched_entity_push_job(k, gfx, j2);
        yield* lock.unlock();
        yield* mmap_read_unlock(mm);
      },
      CPU: function* () {
        yield* munmap(k, mm, 0, 1);
      },
    };
    if (iommu === "lazy") threads.FQ = function* () { yield* fq_flush_timeout(k, dev.domain!); };
    return { threads };
  });
}

describe("end to end: userptr written by GPU jobs while the CPU side is unmapped", () => {
  for (const era of [E18, ENOW]) {
    it(`keep (amdgpu-2018), ${era.name}: stray writes Sometimes, no uaf (GUP refs)`, () => {
      const m = userptrModel("keep", era, "strict");
      const r = claim({ title: "stray-write", model: m, predicate: (e) => e.has("stray-write"), expect: "Sometimes" });
      claim({ title: "uaf", model: m, predicate: (e) => e.has("uaf"), expect: "Never" });
      const t = r.witness!.text;
      expect(t).toContain("do_munmap");
      expect(t).toContain("drv_mn.invalidate_range_start returned");
      expect(t).toMatch(/gfx:J2 write VA 0/);
      expect(t).toContain("FINDING stray-write");
    });
  }

  it("near miss: keep (amdgpu-2018) without the rogue job: the callback waits for J1, so no stray write", () => {
    claim({ title: "stray-write", model: userptrModel("keep", E18, "strict", false), predicate: (e) => e.has("stray-write"), expect: "Never" });
  });

  it("teardown with GPU TLB flush, strict IOMMU: no stray write, no uaf; the rogue job faults", () => {
    const m = userptrModel("teardown", E18, "strict");
    claim({ title: "stray-write", model: m, predicate: (e) => e.has("stray-write"), expect: "Never" });
    claim({ title: "uaf", model: m, predicate: (e) => e.has("uaf"), expect: "Never" });
    claim({ title: "gpu-fault", model: m, predicate: (e) => e.has("gpu-fault"), expect: "Sometimes" });
  });

  it("teardown without the GPU TLB flush (i915 before 7938d61591d3), no IOMMU: uaf Sometimes", () => {
    const m = userptrModel("teardown-no-tlb-flush", E18, "none");
    const r = claim({ title: "uaf", model: m, predicate: (e) => e.has("uaf"), expect: "Sometimes" });
    expect(r.witness!.text).toContain("GPU TLB");
  });

  it("the same without the TLB flush behind a strict IOMMU: the IOMMU catches it (iommu-fault), no uaf", () => {
    const m = userptrModel("teardown-no-tlb-flush", E18, "strict");
    claim({ title: "uaf", model: m, predicate: (e) => e.has("uaf"), expect: "Never" });
    claim({ title: "iommu-fault", model: m, predicate: (e) => e.has("iommu-fault"), expect: "Sometimes" });
  });

  it("trace of the end-to-end witness names every layer", () => {
    const m = userptrModel("keep", E18, "strict");
    const r = check({ title: "e2e", model: m, predicate: (e) => e.has("stray-write"), expect: "Never" });
    const t = r.witness!.text;
    for (const s of ["get_user_pages", "dma_map_sg", "gpuvm_map", "spawn(gfx:J1)", "mmu_notifier_invalidate_range_start", "wait for gfx:J1.fence", "dma_fence_signal"]) expect(t).toContain(s);
  });
});
