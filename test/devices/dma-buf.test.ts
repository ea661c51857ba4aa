// dma-buf: static and dynamic importers, the locking convention per era, and S12 (kernel-semantics
// §25, §29): the exporter evicts under the resv and calls move_notify; an importer that keeps
// using the old sg_table without waiting for the move fence writes freed memory.
import { describe, expect, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, type Era } from "../../lib/kernel/era.ts";
import { Lockdep } from "../../lib/kernel/lockdep.ts";
import { __dma_map_sg, dma_device, sg_alloc_table_from_pages } from "../../lib/kernel/dma-mapping.ts";
import { gpuvm_create, gpuvm_map_sgt, gpuvm_tlb_flush, gpuvm_unmap } from "../../lib/kernel/gpu-vm.ts";
import { drm_sched_entity_push_job, drm_sched_job_init, gpu_engine, gpu_job } from "../../lib/kernel/gpu.ts";
import { dma_resv_add_fence, dma_resv_fences, dma_resv_lock, dma_resv_reserve_fences, dma_resv_unlock, reservation_object_add_shared_fence, reservation_object_reserve_shared } from "../../lib/kernel/dma-resv.ts";
import { DmaBufAttachment, dma_buf_attach, dma_buf_dynamic_attach, dma_buf_export, dma_buf_exporter_move, dma_buf_map_attachment, dma_buf_unmap_attachment, type DmaBufImporterOps } from "../../lib/kernel/dma-buf.ts";

type Importer = "static" | "dynamic-correct" | "dynamic-ignores";

function s12(era: Era, imp: Importer) {
  return model(`S12 ${era.name} ${imp}`, () => {
    const k = boot(era);
    const buf = dma_buf_export(k, "shared", 1);
    const dev = dma_device(k, "importer-gpu", "strict");
    const vm = gpuvm_create(k, "importer-vm", dev);
    const eng = gpu_engine(k, "gfx");
    const ops: DmaBufImporterOps = {
      name: "importer",
      *move_notify(k2, a) {
        if (imp !== "dynamic-correct" || !a.sgt) return;
        // amdgpu_dma_buf_move_notify: invalidate the VM mappings, drop the sg mapping (resv held by the mover).
        yield* gpuvm_unmap(k2, vm, 0, 1);
        yield* gpuvm_tlb_flush(k2, vm);
        yield* dma_buf_unmap_attachment(k2, a, a.sgt);
      },
    };
    // Setup: attached, mapped and bound in the importer's VM at VA 0 (no scheduling points).
    const a = new DmaBufAttachment(buf, dev, imp === "static" ? null : ops);
    buf.attachments.push(a);
    const sgt = sg_alloc_table_from_pages("shared.sgt0", [...buf.pages]);
    buf.mapped.push(sgt);
    __dma_map_sg(k, dev, sgt);
    a.sgt = sgt;
    if (imp === "static") { a.pinned = true; buf.pinCount++; }
    vm.set(0, sgt.dma[0], sgt.gens[0], true, null, sgt, "setup");
    let moved = false;
    return {
      threads: {
        EXP: function* () {
          yield* dma_resv_lock(k, buf.resv, null);
          moved = (yield* dma_buf_exporter_move(k, buf)) !== null;
          yield* dma_resv_unlock(k, buf.resv);
        },
        IMP: function* () {
          yield* dma_resv_lock(k, buf.resv, null);
          if (imp === "dynamic-correct" && !a.sgt) {
            const s = yield* dma_buf_map_attachment(k, a);
            yield* gpuvm_map_sgt(k, vm, 0, s);
          }
          // Implicit sync on the move (KERNEL usage) unless the importer ignores it.
          const deps = imp === "dynamic-ignores" ? [] : yield* dma_resv_fences(buf.resv, "KERNEL");
          const j = gpu_job("J", vm, [{ va: 0, write: true }], { deps, bos: ["shared"] });
          yield* drm_sched_job_init(k, eng, j);
          if (era === E18) { yield* reservation_object_reserve_shared(k, buf.resv); yield* reservation_object_add_shared_fence(k, buf.resv, j.fence!); }
          else { yield* dma_resv_reserve_fences(k, buf.resv, 1); yield* dma_resv_add_fence(k, buf.resv, j.fence!, "WRITE"); }
          yield* dma_resv_unlock(k, buf.resv);
          yield* drm_sched_entity_push_job(k, eng, j);
        },
      },
      final: () => ({ moved }),
    };
  });
}

describe("S12: dynamic dma-buf move", () => {
  it("now, importer ignores move_notify and the move fence: stale access Sometimes; its leaked IOMMU mapping of the released frame is a uaf Always", () => {
    const m = s12(ENOW, "dynamic-ignores");
    claim({ title: "dmabuf-stale-map", model: m, predicate: (e) => e.has("dmabuf-stale-map"), expect: "Sometimes" });
    claim({ title: "uaf", model: m, predicate: (e) => e.has("uaf"), expect: "Always" });
  });
  it("now, importer invalidates in move_notify, re-maps under the resv and depends on the move fence: Never", () => {
    const m = s12(ENOW, "dynamic-correct");
    claim({ title: "stale or uaf", model: m, predicate: (e) => e.has("dmabuf-stale-map") || e.has("uaf"), expect: "Never" });
    claim({ title: "locking", model: m, predicate: (e) => e.has("dmabuf-locking"), expect: "Never" });
    claim({ title: "the buffer moves", model: m, predicate: (e) => e.final.moved, expect: "Always" });
  });
  for (const era of [E18, ENOW]) {
    it(`${era.name}, static importer: the mapping pins, the move fails, nothing stale`, () => {
      const m = s12(era, "static");
      claim({ title: "moved", model: m, predicate: (e) => e.final.moved, expect: "Never" });
      claim({ title: "stale or uaf", model: m, predicate: (e) => e.has("dmabuf-stale-map") || e.has("uaf"), expect: "Never" });
    });
  }
});

describe("dma-buf locking convention per era", () => {
  const conv = (era: Era, holdForMap: boolean, holdForAttach = false) => model(`conv ${era.name} ${holdForMap}`, () => {
    const k = boot(era, { lockdep: new Lockdep(era) });
    const buf = dma_buf_export(k, "b", 1);
    const dev = dma_device(k, "imp", "strict");
    return {
      threads: {
        T: function* () {
          if (holdForAttach) yield* dma_resv_lock(k, buf.resv, null);
          const a = yield* dma_buf_attach(k, buf, dev);
          if (holdForAttach) yield* dma_resv_unlock(k, buf.resv);
          if (holdForMap) yield* dma_resv_lock(k, buf.resv, null);
          const s = yield* dma_buf_map_attachment(k, a);
          yield* dma_buf_unmap_attachment(k, a, s);
          if (holdForMap) yield* dma_resv_unlock(k, buf.resv);
        },
      },
    };
  });
  it("now: map/unmap need the resv; attach must not hold it", () => {
    claim({ title: "held: ok", model: conv(ENOW, true), predicate: (e) => e.has("dmabuf-locking"), expect: "Never" });
    claim({ title: "unlocked map", model: conv(ENOW, false), predicate: (e) => e.has("dmabuf-locking"), expect: "Always" });
    claim({ title: "attach under resv", model: conv(ENOW, true, true), predicate: (e) => e.has("dmabuf-locking"), expect: "Always" });
  });
  it("2018: map is called unlocked; holding the resv around it self-deadlocks in the exporter (lockdep: recursion)", () => {
    claim({ title: "unlocked: fine", model: conv(E18, false), predicate: (e) => e.has("deadlock") || e.has("dmabuf-locking"), expect: "Never" });
    claim({ title: "held: deadlock", model: conv(E18, true), predicate: (e) => e.has("deadlock") && e.has("lockdep"), expect: "Always" });
  });
  it("dynamic importers do not exist in 2018", () => {
    const m = model("dyn 2018", () => {
      const k = boot(E18);
      const buf = dma_buf_export(k, "b", 1);
      return { threads: { T: function* () { yield* dma_buf_dynamic_attach(k, buf, dma_device(k, "d", "none"), { name: "x", *move_notify() {} }); } } };
    });
    expect(() => claim({ title: "x", model: m, predicate: () => true, expect: "Always" })).toThrow(/v5.7/);
  });
});
