// IOMMU and DMA API contracts and S13 (kernel-semantics §21, §29): lazy unmap, the page is freed
// and reused, the device still reads through the stale IOTLB -> the accepted lazy window.
// The driver leaks its GPU PTE (amdgpu-2018 style), so only the IOMMU stands between the job
// and the frame.
import { describe, expect, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW } from "../../lib/kernel/era.ts";
import { GFP_KERNEL, alloc_page } from "../../lib/kernel/gfp.ts";
import { put_page } from "../../lib/kernel/gup.ts";
import { dma_device, dma_map_sg, dma_unmap_sg, sg_alloc_table_from_pages } from "../../lib/kernel/dma-mapping.ts";
import { fq_flush_timeout, iommu_domain_alloc, iommu_map, iommu_unmap, type IommuMode } from "../../lib/kernel/iommu.ts";
import { gpuvm_create, gpuvm_map_sgt } from "../../lib/kernel/gpu-vm.ts";
import { drm_sched_entity_push_job, drm_sched_job_init, gpu_engine, gpu_job } from "../../lib/kernel/gpu.ts";
import { dma_fence_wait } from "../../lib/kernel/dma-fence.ts";
import { replay } from "../../lib/explorer/replay.ts";
import { encodeToken } from "../../lib/explorer/token.ts";

function s13(mode: IommuMode, putBeforeUnmap = false, era = E18) {
  return model(`S13 ${mode}${putBeforeUnmap ? " put-before-unmap" : ""}`, () => {
    const k = boot(era);
    const dev = dma_device(k, "gpu", mode);
    const vm = gpuvm_create(k, "vm", dev);
    const eng = gpu_engine(k, "sdma");
    const pfn = k.mem.allocFrame(); // a driver-owned page (ref 1)
    const threads: Record<string, () => Generator<any, unknown, unknown>> = {
      DRV: function* () {
        const sgt = sg_alloc_table_from_pages("buf.sgt", [pfn]);
        yield* dma_map_sg(k, dev, sgt);
        yield* gpuvm_map_sgt(k, vm, 0, sgt);
        const j1 = gpu_job("J1", vm, [{ va: 0, write: false }]);
        yield* drm_sched_job_init(k, eng, j1);
        yield* drm_sched_entity_push_job(k, eng, j1);
        yield* dma_fence_wait(k, j1.fence!);
        // A second job the driver does not wait for (it was queued by user space behind J1).
        const j2 = gpu_job("J2", vm, [{ va: 0, write: false }]);
        yield* drm_sched_job_init(k, eng, j2);
        yield* drm_sched_entity_push_job(k, eng, j2);
        if (putBeforeUnmap) yield* put_page(k, pfn);
        yield* dma_unmap_sg(k, dev, sgt);
        if (!putBeforeUnmap) yield* put_page(k, pfn);
        yield* alloc_page(k, GFP_KERNEL, "someone else's alloc_page"); // LIFO: reuses the frame
      },
    };
    if (mode === "lazy") threads.FQ = function* () { yield* fq_flush_timeout(k, dev.domain!); };
    return { threads };
  });
}

describe("S13: lazy IOTLB", () => {
  for (const era of [E18, ENOW]) {
    it(`${era.name} lazy: stale-IOTLB access to a freed/reused frame is the accepted window, never uaf`, () => {
      const m = s13("lazy", false, era);
      const r = claim({ title: "lazy-iotlb-window", model: m, predicate: (e) => e.has("lazy-iotlb-window"), expect: "Sometimes" });
      expect(r.witness!.text).toContain("accepted reduced isolation");
      claim({ title: "uaf", model: m, predicate: (e) => e.has("uaf"), expect: "Never" });
      claim({ title: "reused frame reached", model: m, predicate: (e) => e.findings.some((f) => f.kind === "lazy-iotlb-window" && (f.data as { reused: boolean }).reused), expect: "Sometimes" });
    });
    it(`${era.name} strict: no window, no uaf; the late job faults`, () => {
      const m = s13("strict", false, era);
      claim({ title: "window", model: m, predicate: (e) => e.has("lazy-iotlb-window") || e.has("uaf"), expect: "Never" });
      claim({ title: "iommu-fault", model: m, predicate: (e) => e.has("iommu-fault"), expect: "Sometimes" });
    });
  }
  it("broken: put_page before dma_unmap_sg in strict mode frees a frame the IOMMU still maps: uaf Always", () => {
    claim({ title: "uaf", model: s13("strict", true), predicate: (e) => e.has("uaf"), expect: "Always" });
  });
  it("no IOMMU: the leaked GPU PTE holds a physical address, so freeing the page is already a uaf: Always", () => {
    claim({ title: "uaf", model: s13("none"), predicate: (e) => e.has("uaf"), expect: "Always" });
  });
});

describe("IOMMU and DMA API contracts", () => {
  it("iommu_unmap invalidates the IOTLB before returning; iommu_map of a mapped IOVA is -EEXIST", () => {
    const m = model("iommu contract", () => {
      const k = boot(E18);
      const dom = iommu_domain_alloc(k, "d", "strict");
      const pfn = k.mem.allocFrame();
      const out: unknown[] = [];
      return {
        threads: {
          T: function* () {
            out.push(yield* iommu_map(k, dom, 5, pfn));
            out.push(yield* iommu_map(k, dom, 5, pfn));
            yield* k.mem.step("device read", "w", () => dom.translate(5, false, "dev"));
            out.push(dom.cached(5));
            yield* iommu_unmap(k, dom, [5]);
            out.push(dom.cached(5));
            out.push(yield* k.mem.step("device read again", "w", () => dom.translate(5, false, "dev")));
          },
        },
        final: () => out,
      };
    });
    claim({ title: "contract", model: m, predicate: (e) => JSON.stringify(e.final) === JSON.stringify([0, -17, true, false, null]) && e.has("iommu-fault"), expect: "Always" });
  });
  it("dma_unmap_sg must get the nents given to dma_map_sg (DMA-API debug)", () => {
    const m = (n: number | undefined) => model("nents", () => {
      const k = boot(E18);
      const dev = dma_device(k, "gpu", "strict");
      const pages = [k.mem.allocFrame(), k.mem.allocFrame()];
      return { threads: { T: function* () { const s = sg_alloc_table_from_pages("s", pages); yield* dma_map_sg(k, dev, s); yield* dma_unmap_sg(k, dev, s, n); } } };
    });
    claim({ title: "wrong nents", model: m(1), predicate: (e) => e.has("dma-api"), expect: "Always" });
    claim({ title: "near miss", model: m(undefined), predicate: (e) => e.has("dma-api"), expect: "Never" });
  });
});

describe("the DMA unmap is named after the code the era runs (era.intelDmaOps)", () => {
  // v4.16's Intel IOMMU had DMA ops of its own (intel_unmap); dma-iommu's __iommu_dma_unmap took
  // over in v5.11 (c588072bba6b). Same effects, different names in the traces.
  const names = (era: typeof E18, mode: IommuMode) => {
    const m = model("unmap", () => {
      const k = boot(era);
      const dev = dma_device(k, "gpu", mode);
      const pfn = k.mem.allocFrame();
      return { threads: { T: function* () { const s = sg_alloc_table_from_pages("s", [pfn]); yield* dma_map_sg(k, dev, s); yield* dma_unmap_sg(k, dev, s); } } };
    });
    return replay(m, encodeToken([])).trace.map((e) => e.label).join("\n");
  };
  it("2018, strict: intel_unmap, dma_pte_clear_range, iommu_flush_iotlb_psi, free_iova_fast", () => {
    const t = names(E18, "strict");
    for (const fn of ["intel_unmap", "dma_pte_clear_range", "iommu_flush_iotlb_psi", "free_iova_fast"]) expect(t).toContain(fn);
    expect(t).not.toContain("__iommu_dma_unmap");
  });
  it("2018, lazy: intel_unmap queues the IOVA", () => {
    expect(names(E18, "lazy")).toMatch(/intel_unmap › dma_pte_clear_range \+ queue_iova/);
  });
  it("now: dma-iommu's __iommu_dma_unmap", () => {
    const t = names(ENOW, "strict");
    for (const fn of ["__iommu_dma_unmap", "iommu_unmap_fast", "iommu_iotlb_sync", "free_iova"]) expect(t).toContain(fn);
    expect(t).not.toContain("intel_unmap");
  });
});
