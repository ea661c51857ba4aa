// Field footprints for the GPU VM's "needs flush" flag (lib/kernel/gpu-vm.ts: gpuvm_map_sgt with
// `needsFlush`, gpuvm_flush_if_needed), which amdgpu@v4.16's amdgpu_vm_bo_update and
// amdgpu_vm_flush use (chapter 01). As in field-foot.test.ts: DPOR on fields must reach the SET
// of outcomes naive DFS reaches, and a recorder that drops the flag must lose an outcome, or the
// comparison could not fail: the flush that finds the flag clear reads nothing else the update
// writes, and the job behind it hits the stale TLB entry without reading the PTE.
import { describe, expect, it } from "vitest";
import { model } from "../../lib/explorer/index.ts";
import type { Yieldable } from "../../lib/explorer/index.ts";
import { outcomes, type Program } from "./outcome-set.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, PTE_PRESENT, PTE_WRITE } from "../../lib/kernel/mm.ts";
import { addRmap, setPte } from "../../lib/kernel/pgtable.ts";
import { HW_GPU_TLB, PG_ANON } from "../../lib/kernel/page.ts";
import { user_write } from "../../lib/kernel/user.ts";
import { __dma_map_sg, dma_device, sg_alloc_table_from_pages } from "../../lib/kernel/dma-mapping.ts";
import { gpuvm_create, gpuvm_flush_if_needed, gpuvm_map_sgt } from "../../lib/kernel/gpu-vm.ts";
import { drm_sched_entity_push_job, drm_sched_job_init, gpu_engine, gpu_job, type GpuJob } from "../../lib/kernel/gpu.ts";
import { devState } from "../../lib/kernel/device-oracles.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

/** What races with the update: `job` (one job whose run_job is the conditional flush), `store`
 *  (a user store to the old page), `flush` (the updater flushes after its update, as a second
 *  submission's job would), `two-jobs`. */
type Shape = "job" | "job+store" | "update+flush" | "two-jobs";

/** GPU VA 8 maps the process's page 0 (frame A), cached in the GPU TLB; thread U rebinds it to
 *  a fresh frame B (an update that needs a flush) while jobs write VA 8. */
function program(shape: Shape, drop?: (field: string) => boolean): Program {
  const text = `needs-flush: ${shape}`;
  const m = model(text, () => {
    const k = boot(ENOW);
    const fl = k.mem.fields;
    if (drop && fl) fl.drop = (f) => drop(fl.describe(f));
    const mm = mm_alloc(k, 1, "p");
    mmap_region(mm, 0, 1);
    const a = k.mem.allocFrame();
    k.mem.flags[a] |= PG_ANON;
    addRmap(k, a);
    setPte(mm, 0, a, PTE_PRESENT | PTE_WRITE);
    const b = k.mem.allocFrame();
    const dev = dma_device(k, "gpu", "none");
    const vm = gpuvm_create(k, "vm", dev);
    vm.set(8, a, k.mem.gen[a], true, { mm, vpn: 0 }, null, "setup");
    vm.tlb.set(8, vm.pte.get(8)!);
    k.mem.hwGet(a, HW_GPU_TLB);
    const sgt = sg_alloc_table_from_pages("new.sgt", [b]);
    __dma_map_sg(k, dev, sgt);
    const gfx = gpu_engine(k, "gfx", { run_job: (k2) => gpuvm_flush_if_needed(k2, vm) });
    devState(k); // made at setup: made inside a step, it makes that step fall back (device-oracles.ts)
    const jobs: GpuJob[] = [];
    const submit = function* (name: string): Gen<void> {
      const job = gpu_job(name, vm, [{ va: 8, write: true }]);
      jobs.push(job);
      yield* drm_sched_job_init(k, gfx, job);
      yield* drm_sched_entity_push_job(k, gfx, job);
    };
    const threads: Record<string, () => Gen<void>> = {
      U: function* () {
        yield* gpuvm_map_sgt(k, vm, 8, sgt, [], undefined, { needsFlush: true });
        if (shape === "update+flush") yield* gpuvm_flush_if_needed(k, vm);
      },
      J: function* () {
        yield* submit("J1");
        if (shape === "two-jobs") yield* submit("J2");
      },
    };
    if (shape === "job+store") threads.S = function* () { yield* user_write(k, mm, 0); };
    return {
      threads,
      final: () => JSON.stringify([jobs.map((j) => j.status), [...vm.pte].map(([va, e]) => [va, e.dma]), [...vm.tlb].map(([va, e]) => [va, e.dma]), vm.needsFlush, k.mem.contents[a], k.mem.contents[b], [...k.mem.hw]]),
    };
  });
  return { text, model: m };
}

const SHAPES: Shape[] = ["job", "job+store", "update+flush", "two-jobs"];

describe("field footprints: the GPU VM's needs-flush flag", () => {
  it("reach every outcome DFS reaches", () => {
    let dfsTotal = 0, fieldTotal = 0;
    for (const shape of SHAPES) {
      const dfs = outcomes(program(shape), { strategy: "dfs" }, 20_000);
      expect(dfs.complete, `DFS of ${shape}`).toBe(true);
      const fld = outcomes(program(shape), { strategy: "dpor", fields: true }, 20_000);
      expect(fld.complete).toBe(true);
      expect(fld.all, program(shape).text).toEqual(dfs.all);
      // The race is there to lose: some run's job writes the old frame through the stale TLB
      // entry, some the new one (the update came before the flush).
      const written = dfs.all.map((o) => JSON.parse(o.slice(0, o.lastIndexOf(" "))) as unknown[]);
      expect(written.some((w) => w[4] !== 0 && w[5] === 0), `${shape}: a job writes frame A`).toBe(true);
      expect(written.some((w) => w[5] !== 0), `${shape}: a job writes frame B`).toBe(true);
      dfsTotal += dfs.n;
      fieldTotal += fld.n;
    }
    console.log(`field footprints, needs-flush: ${SHAPES.length} programs, executions DFS ${dfsTotal}, fields ${fieldTotal}`);
  }, 300_000);

  it("loses outcomes when the recorder drops the flag (the split update and flush can fail)", () => {
    const drop = (f: string) => /\.needsFlush$/.test(f);
    let lost = 0;
    for (const shape of ["job", "two-jobs"] as Shape[]) {
      const dfs = outcomes(program(shape), { strategy: "dfs" }, 20_000);
      const fld = outcomes(program(shape, drop), { strategy: "dpor", fields: true }, 20_000);
      if (fld.all.join("\n") !== dfs.all.join("\n")) lost++;
    }
    expect(lost).toBeGreaterThan(0);
  }, 300_000);
});
