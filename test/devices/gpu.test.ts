// GPU VM, GPU TLB, engines and jobs; the "waiter holds what the signaller needs" oracle.
import { describe, expect, it } from "vitest";
import { check, claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, type Era } from "../../lib/kernel/era.ts";
import { KMutex } from "../../lib/kernel/mutex.ts";
import { dma_device } from "../../lib/kernel/dma-mapping.ts";
import { gpuvm_create, gpuvm_map, gpuvm_tlb_flush, gpuvm_unmap } from "../../lib/kernel/gpu-vm.ts";
import { drm_sched_entity_push_job, drm_sched_job_init, gpu_engine, gpu_job } from "../../lib/kernel/gpu.ts";
import { dma_fence_begin_signalling, dma_fence_end_signalling, dma_fence_wait, ECANCELED } from "../../lib/kernel/dma-fence.ts";

describe("GPU VM and TLB", () => {
  it("the GPU TLB survives a PTE clear until flushed; a flush makes the next access fault", () => {
    const m = (flush: boolean) => model(`tlb ${flush}`, () => {
      const k = boot(E18);
      const vm = gpuvm_create(k, "vm", dma_device(k, "gpu", "none"));
      const pfn = k.mem.allocFrame();
      const out: string[] = [];
      return {
        threads: {
          T: function* () {
            yield* gpuvm_map(k, vm, 3, pfn, true);
            out.push(yield* k.mem.step("access", "w", () => vm.access(3, true, "t")));
            yield* gpuvm_unmap(k, vm, 3, 1);
            if (flush) yield* gpuvm_tlb_flush(k, vm);
            out.push(yield* k.mem.step("access", "w", () => vm.access(3, true, "t")));
          },
        },
        final: () => out.join(),
      };
    });
    claim({ title: "no flush: still ok", model: m(false), predicate: (e) => e.final === "ok,ok", expect: "Always" });
    claim({ title: "flush: fault", model: m(true), predicate: (e) => e.final === "ok,gpu-fault", expect: "Always" });
  });

  it("a fatal GPU fault kills the job and signals its fence with an error; a recoverable one is serviced", () => {
    const m = (recoverable: boolean) => model(`fault ${recoverable}`, () => {
      const k = boot(E18);
      const vm = gpuvm_create(k, "vm", dma_device(k, "gpu", "none"));
      const pfn = k.mem.allocFrame();
      if (recoverable) vm.faultHandler = function* (k2, vm2, va, write) { yield* gpuvm_map(k2, vm2, va, pfn, write); return true; };
      const eng = gpu_engine(k, "gfx");
      const j = gpu_job("J", vm, [{ va: 7, write: true }]);
      return {
        threads: { CS: function* () { yield* drm_sched_job_init(k, eng, j); yield* drm_sched_entity_push_job(k, eng, j); } },
        final: () => ({ status: j.status, err: j.fence!.error }),
      };
    });
    claim({ title: "fatal", model: m(false), predicate: (e) => e.has("gpu-fault") && e.final.status === "fault" && e.final.err === ECANCELED, expect: "Always" });
    claim({ title: "recoverable", model: m(true), predicate: (e) => !e.has("gpu-fault") && e.final.status === "done", expect: "Always" });
  });
});

/** The CS holds L and waits for a job whose run_job takes L: the waiter holds what the signaller
 *  needs. `annotated`: the driver's run_job is inside its own dma_fence_begin/end_signalling
 *  (stock drm_sched annotates nothing on that path: dma-fence.ts signalling_path). */
function waiterHolds(era: Era, waitUnderLock: boolean, annotated = false) {
  return model(`waiter holds ${era.name} ${waitUnderLock}${annotated ? " annotated" : ""}`, () => {
    const k = boot(era);
    const L = new KMutex(k, "drv->vm_lock");
    const vm = gpuvm_create(k, "vm", dma_device(k, "gpu", "none"));
    const eng = gpu_engine(k, "gfx", {
      *run_job(k2) {
        const cookie = annotated ? dma_fence_begin_signalling(k2) : true;
        yield* L.lock();
        yield* L.unlock();
        if (annotated) dma_fence_end_signalling(k2, cookie);
      },
    });
    const j = gpu_job("J", vm, []);
    return {
      threads: {
        CS: function* () {
          yield* L.lock();
          yield* drm_sched_job_init(k, eng, j);
          yield* drm_sched_entity_push_job(k, eng, j);
          if (waitUnderLock) yield* dma_fence_wait(k, j.fence!);
          yield* L.unlock();
          if (!waitUnderLock) yield* dma_fence_wait(k, j.fence!);
        },
      },
    };
  });
}

describe("waiting on a fence while holding what its signaller needs", () => {
  it("a real deadlock in both eras, with the fence's signaller in the wait-for cycle; lockdep silent (stock drm_sched annotates no run_job path)", () => {
    for (const [era, ldv] of [[E18, "Never"], [ENOW, "Never"]] as const) {
      const m = waiterHolds(era, true);
      const r = check({ title: "deadlock (witness)", model: m, predicate: (e) => e.has("deadlock"), expect: "Never" });
      expect(r.observed).toBe("Always");
      const d = r.witness!.findings.find((f) => f.kind === "deadlock")!;
      expect(d.message).toContain("wait-for cycle");
      expect(d.message).toContain("gfx:J.fence held by gfx:J");
      claim({ title: "lockdep", model: waiterHolds(era, true), predicate: (e) => e.has("lockdep"), expect: ldv });
    }
  });
  it("now, with the driver's own annotation around run_job: lockdep reports the cycle in every execution", () => {
    claim({ title: "lockdep", model: waiterHolds(ENOW, true, true), predicate: (e) => e.has("lockdep"), expect: "Always" });
  });
  it("near miss: waiting after unlocking", () => {
    for (const era of [E18, ENOW]) {
      const m = waiterHolds(era, false);
      claim({ title: "deadlock", model: m, predicate: (e) => e.has("deadlock") || e.has("lockdep"), expect: "Never" });
    }
  });
});
