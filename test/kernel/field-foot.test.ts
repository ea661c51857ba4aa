// Field footprints (search.fields; lib/kernel/field-log.ts, lib/explorer/README.md "Field
// footprints"): a split memory step depends on other steps by the fields it touched. Soundness is
// decided here against naive DFS on generated kernel-model programs: the SET of outcomes (each
// thread's results, the findings, the final page tables and frames) must be the same. A mutation
// (the recorder drops one field) must make the comparison fail, or the test could not fail.
import { describe, expect, it } from "vitest";
import { check, model } from "../../lib/explorer/index.ts";
import { outcomes } from "./outcome-set.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, PTE_DIRTY, PTE_PRESENT, PTE_WRITE, PTE_YOUNG } from "../../lib/kernel/mm.ts";
import { addRmap, setPte } from "../../lib/kernel/pgtable.ts";
import { PG_ANON } from "../../lib/kernel/page.ts";
import { user_read, user_write } from "../../lib/kernel/user.ts";
import type { Yieldable } from "../../lib/explorer/index.ts";
import { dma_device } from "../../lib/kernel/dma-mapping.ts";
import { gpuvm_create, gpuvm_tlb_flush } from "../../lib/kernel/gpu-vm.ts";
import { OPS, opIndex, program } from "./field-programs.ts";

describe("field footprints (search.fields)", () => {
  it("reach every outcome DFS reaches on generated kernel programs", () => {
    // Programs whose DFS does not finish within its budget are skipped; 16 are compared.
    let compared = 0, dfsTotal = 0, declTotal = 0, fieldTotal = 0;
    for (let seed = 1; compared < 16 && seed < 120; seed++) {
      const p = program(seed);
      const dfs = outcomes(p, { strategy: "dfs" }, 2_000);
      if (!dfs.complete) continue;
      const dec = outcomes(p, { strategy: "dpor" });
      const fld = outcomes(p, { strategy: "dpor", fields: true });
      expect(fld.complete, p.text).toBe(true);
      expect(fld.all, `seed ${seed}: ${p.text}`).toEqual(dfs.all);
      expect(dec.all, `seed ${seed}: ${p.text}`).toEqual(dfs.all);
      compared++;
      if (process.env.FIELD_FOOT_VERBOSE) console.log(`seed ${seed} ${p.text}: DFS ${dfs.n}, declared ${dec.n}, fields ${fld.n}, outcomes ${dfs.all.length}`);
      dfsTotal += dfs.n;
      declTotal += dec.n;
      fieldTotal += fld.n;
    }
    expect(compared).toBe(16);
    console.log(`field footprints: ${compared} programs, executions DFS ${dfsTotal}, declared ${declTotal}, fields ${fieldTotal}`);
    expect(fieldTotal).toBeLessThanOrEqual(declTotal);
  }, 300_000);

  it("reach every outcome DFS reaches with the split GPU, mprotect, fork, COW, zap, IOMMU and DMA-mapping steps", () => {
    // The generator above rarely draws these: force each (the job with racing loads and stores,
    // with a racing unmap + flush, beside a fork whose COW a store breaks; a zap (zap_pte_range,
    // tlb_flush_mmu) beside stores, GUP-fast, or a pin; a job or a binding through a strict IOMMU beside
    // dma_unmap_sg + dma_map_sg, through a lazy one beside the unmap and the flush queue's
    // timeout, beside a zap of the frame). 2 programs each whose DFS finishes.
    const op = opIndex;
    const combos: number[][] = [[op("gpu job")], [op("gpu job"), op("gpu unmap+flush")], [op("wrprotect+unprotect")], [op("fork")], [op("gpu map+write"), op("wrprotect+unprotect")], [op("dontneed")], [op("dontneed"), op("gup-fast")], [op("munmap"), op("pin")], [op("iommu job"), op("iommu unmap+remap")], [op("iommu bind"), op("iommu unmap+remap")], [op("lazy iommu job"), op("lazy iommu unmap+flush")],
      [op("iommu job"), op("dontneed")]];
    let dfsTotal = 0, fieldTotal = 0;
    for (const forced of combos) {
      let compared = 0;
      for (let seed = 1; compared < 2 && seed < 40; seed++) {
        const p = program(seed, undefined, forced);
        const dfs = outcomes(p, { strategy: "dfs" }, 5_000);
        if (!dfs.complete) continue;
        const fld = outcomes(p, { strategy: "dpor", fields: true });
        expect(fld.complete, p.text).toBe(true);
        expect(fld.all, `seed ${seed}: ${p.text}`).toEqual(dfs.all);
        compared++;
        if (process.env.FIELD_FOOT_VERBOSE) console.log(`seed ${seed} ${p.text}: DFS ${dfs.n}, fields ${fld.n}, outcomes ${dfs.all.length}`);
        dfsTotal += dfs.n;
        fieldTotal += fld.n;
      }
      expect(compared, `programs with ${forced.map((i) => OPS[i](0)[0]).join(" + ")}`).toBe(2);
    }
    console.log(`field footprints, forced operations: ${combos.length * 2} programs, executions DFS ${dfsTotal}, fields ${fieldTotal}`);
  }, 300_000);

  it("reach every outcome DFS reaches with the split reclaim steps (vmscan.ts, rmap.ts)", () => {
    // folio_mkclean (writeback's write-protect pass, under the page lock) beside loads and stores:
    // against DFS, 2 programs whose DFS finishes. It caught a footprint bug on its first run: the
    // COW reuse check read the page lock without naming it, and over fields the copy a locked
    // page forces was lost (fault.ts, wp_can_reuse_anon_folio). Reclaim (the scan, isolation,
    // add_to_swap, try_to_unmap_one's PTE and swap entry, pageout, __remove_mapping, the free, the
    // putback) beside a load, a store, a zap, a pin, MADV_DONTNEED: DFS does not finish here, so
    // held to DPOR over declared footprints (itself held to DFS above and in test/explorer): the
    // same outcomes, in fewer executions.
    let dfsTotal = 0, fieldTotal = 0, declTotal = 0;
    let compared = 0;
    for (let seed = 1; compared < 2 && seed < 20; seed++) {
      const p = program(seed, undefined, [opIndex("mkclean")]);
      const dfs = outcomes(p, { strategy: "dfs" }, 2_000);
      if (!dfs.complete) continue;
      const fld = outcomes(p, { strategy: "dpor", fields: true });
      expect(fld.complete, p.text).toBe(true);
      expect(fld.all, `seed ${seed}: ${p.text}`).toEqual(dfs.all);
      compared++;
      dfsTotal += dfs.n;
      fieldTotal += fld.n;
    }
    expect(compared).toBe(2);
    const againstDeclared: [string[], number][] = [[["reclaim"], 4], [["reclaim", "read"], 4], [["kswapd", "munmap"], 4], [["kswapd", "munmap"], 2], [["reclaim", "pin"], 4], [["reclaim", "dontneed"], 4]];
    for (const [names, seed] of againstDeclared) {
      const p = program(seed, undefined, names.map(opIndex));
      const dec = outcomes(p, { strategy: "dpor" }, 5_000);
      expect(dec.complete, p.text).toBe(true);
      const fld = outcomes(p, { strategy: "dpor", fields: true });
      expect(fld.complete, p.text).toBe(true);
      expect(fld.all, `seed ${seed}: ${p.text}`).toEqual(dec.all);
      expect(fld.n, p.text).toBeLessThan(dec.n);
      declTotal += dec.n;
      fieldTotal += fld.n;
    }
    console.log(`field footprints, reclaim: executions DFS ${dfsTotal}, declared ${declTotal}, fields ${fieldTotal}`);
  }, 300_000);

  it("loses outcomes on a reclaim program when the recorder drops the TLB arrays (that comparison can fail)", () => {
    // Reclaim beside MADV_DONTNEED of the same page: try_to_unmap_one's flush and the zap's both
    // clear the CPU TLB entry a load filled; without the TLB fields an outcome is lost. (The zap is
    // split too: this shows the comparison can fail, not that only the reclaim steps make it. No
    // field of the reclaim steps alone loses an outcome in these small programs: the rmap walk,
    // which is not split, orders most of them.)
    const forced = [opIndex("reclaim"), opIndex("dontneed")];
    const dec = outcomes(program(4, undefined, forced), { strategy: "dpor" }, 5_000);
    expect(dec.complete).toBe(true);
    const dropped = outcomes(program(4, (f) => /\.tlb/.test(f), forced), { strategy: "dpor", fields: true });
    expect(dropped.all).not.toEqual(dec.all);
  }, 300_000);

  it("stores to two different frames are independent (no global write counter or CPU write log)", () => {
    // Two threads, each storing once to its own mapped page: nothing they touch is shared, so
    // DPOR on fields needs one execution. A per-memory write counter or a log of CPU writes made
    // every store depend on every other (two executions).
    const m = model("two stores", () => {
      const k = boot(ENOW);
      const mm = mm_alloc(k, 2, "p");
      mmap_region(mm, 0, 2);
      for (let v = 0; v < 2; v++) {
        const pfn = k.mem.allocFrame();
        k.mem.flags[pfn] |= PG_ANON;
        addRmap(k, pfn);
        setPte(mm, v, pfn, PTE_PRESENT | PTE_WRITE | PTE_DIRTY | PTE_YOUNG);
      }
      return { threads: { A: function* () { yield* user_write(k, mm, 0); }, B: function* () { yield* user_write(k, mm, 1); } } };
    });
    const r = check({ title: "two stores", model: m, predicate: () => false, expect: "Never", search: { strategy: "dpor", fields: true } });
    expect(r.complete).toBe(true);
    expect(r.stats.executions).toBe(1);
  });

  it("a CPU store and a device write to one frame commute (PhysMem.orContents), a load does not", () => {
    // Each write ORs its own bit into the frame's contents and reads nothing of them, so under
    // field footprints the two are independent (MODE_UPDATE): one execution. A load of the page
    // reads the contents, so it is ordered against each write: 4 traces, one per set of writes
    // it sees (before both, after either, after both), and 5 executions: a write turns the
    // sleeping load into a step on other fields, so it is explored once more where it was still
    // the old step (dpor.ts header, "Wakes").
    const build = (load: boolean) => model("store vs device write", () => {
      const k = boot(ENOW);
      const mm = mm_alloc(k, 1, "p");
      mmap_region(mm, 0, 1);
      const pfn = k.mem.allocFrame();
      k.mem.flags[pfn] |= PG_ANON;
      addRmap(k, pfn);
      setPte(mm, 0, pfn, PTE_PRESENT | PTE_WRITE | PTE_DIRTY | PTE_YOUNG);
      const gen = k.mem.gen[pfn];
      const seen: number[] = [];
      const threads: Record<string, () => Generator<Yieldable, void, unknown>> = {
        A: function* () { yield* user_write(k, mm, 0); },
        B: function* () { yield* k.mem.fieldStep("device write", "w", () => void k.mem.writeFrame(pfn, "device", gen)); },
      };
      if (load) threads.C = function* () { seen.push(yield* user_read(k, mm, 0)); };
      return { threads, final: () => seen.join(",") + "/" + k.mem.contents[pfn] };
    });
    const run = (load: boolean, strategy: "dfs" | "dpor") => {
      const finals = new Set<string>();
      const r = check({ title: "store vs device write", model: build(load), predicate: (e) => (finals.add(String(e.final)), false), expect: "Never", search: strategy === "dfs" ? "dfs" : { strategy: "dpor", fields: true } });
      expect(r.complete).toBe(true);
      return { n: r.stats.executions, finals: [...finals].sort() };
    };
    expect(run(false, "dpor").n).toBe(1);
    const dfs = run(true, "dfs"), fld = run(true, "dpor");
    expect(fld.finals).toEqual(dfs.finals);
    expect(dfs.finals.length).toBe(4);
    expect(fld.n).toBe(5);
  });

  it("two flushes of an empty GPU TLB are independent (clearing an empty map only reads its key set)", () => {
    // Both steps find the TLB empty and change nothing; a clear recorded as a write of the key set
    // made them depend on each other (two executions). A flush of a TLB that holds an entry still
    // writes it: the forced programs with a job beside gpuvm_unmap + flush check that.
    const m = model("two flushes", () => {
      const k = boot(ENOW);
      const vm = gpuvm_create(k, "vm", dma_device(k, "gpu", "none"));
      return { threads: { A: function* () { yield* gpuvm_tlb_flush(k, vm); }, B: function* () { yield* gpuvm_tlb_flush(k, vm); } } };
    });
    const r = check({ title: "two flushes", model: m, predicate: () => false, expect: "Never", search: { strategy: "dpor", fields: true } });
    expect(r.complete).toBe(true);
    expect(r.stats.executions).toBe(1);
  });

  it("loses outcomes when the recorder drops a field (the comparison can fail)", () => {
    // A load and a store of one page conflict on the frame's data and on the PTE's accessed and
    // dirty bits; without those two fields the search treats them as independent.
    expect(programsLosingOutcomes((f) => /\.(contents|pteFlags)$/.test(f), [], 40, 500)).toBeGreaterThan(0);
  }, 300_000);

  it("loses outcomes when the recorder drops the GPU page table and TLB (the forced programs can fail)", () => {
    // A job's fetch and a racing gpuvm_unmap + TLB flush conflict only on the VM's PTE and TLB
    // entries (SPACE_MAP owners 0 and 1: field-log.ts); without them the fetch commutes with both.
    expect(programsLosingOutcomes((f) => /^map:[01]:/.test(f), [opIndex("gpu job"), opIndex("gpu unmap+flush")], 10, 2_000)).toBeGreaterThan(0);
  }, 300_000);

  it("loses outcomes when the recorder drops the TLB arrays, page flags and free-list membership (tlb_flush_mmu can fail)", () => {
    // tlb_flush_mmu (split) and a store through the TLB entry that the zap left conflict on the
    // entry (tlbPfn, tlbWrite), the frame's flags (zeroed at the free) and its
    // free-list membership (the uaf check). Without them the store commutes with the flush and
    // the store after the zap but before the flush is lost; with tlb_flush_mmu not split (all of
    // memory) nothing is lost, so this case fails only through the split step.
    expect(programsLosingOutcomes((f) => /\.(tlbPfn|tlbWrite|flags|onFree)$/.test(f), [opIndex("dontneed")], 12, 5_000)).toBeGreaterThan(0);
  }, 300_000);

  it("loses outcomes when the recorder drops the PTE flags (zap_pte_range can fail)", () => {
    // munmap's zap_pte_range (split) clears the PTE that a racing pin's GUP-fast reads; without the
    // flags the pin commutes with the zap. With zap_pte_range not split (all of memory) this
    // mutation loses nothing here.
    expect(programsLosingOutcomes((f) => /\.pteFlags$/.test(f), [opIndex("munmap"), opIndex("pin")], 12, 5_000)).toBeGreaterThan(0);
  }, 300_000);

  it("loses outcomes when the recorder drops the IO page table (the IOMMU steps can fail)", () => {
    // A job's completion through a strict IOMMU walks the IO PTE that dma_unmap_sg clears and
    // dma_map_sg sets again; without it they commute and the access that faults is lost.
    expect(programsLosingOutcomes((f) => /^iommu:.*\.pt$/.test(f), [opIndex("iommu job"), opIndex("iommu unmap+remap")], 6, 5_000)).toBeGreaterThan(0);
  }, 300_000);

  it("loses outcomes when the recorder drops the mirroring device's table (its unmap and write then commute)", () => {
    // MirrorGpu's DMA write reads the PTE the invalidation's unmap clears; without the field the two
    // commute and the write that finds no mapping (or the one that still finds it) is lost.
    expect(programsLosingOutcomes((f) => /^dev:.*\.pfn$/.test(f), [opIndex("gpu map+write"), opIndex("invalidate")], 6, 5_000)).toBeGreaterThan(0);
  }, 300_000);

  it("loses outcomes when the recorder drops an sg table's counts (dma_map_sg and dma_unmap_sg can fail)", () => {
    // gpuvm_map_sgt reads nents, which dma_unmap_sg zeroes and dma_map_sg sets again; without it
    // the binding that finds the table unmapped (no GPU PTE) is lost.
    expect(programsLosingOutcomes((f) => /^sg:.*\.nents$/.test(f), [opIndex("iommu bind"), opIndex("iommu unmap+remap")], 6, 5_000)).toBeGreaterThan(0);
  }, 300_000);
});

/** Mutation: 1 at the first program (seeds 1..seeds-1, DFS within `dfsBudget`) whose outcomes
 *  under DPOR on fields with `drop` differ from DFS's, else 0. */
function programsLosingOutcomes(drop: (field: string) => boolean, forced: readonly number[], seeds: number, dfsBudget: number): number {
  for (let seed = 1; seed < seeds; seed++) {
    const dfs = outcomes(program(seed, undefined, forced), { strategy: "dfs" }, dfsBudget);
    if (!dfs.complete) continue;
    const fld = outcomes(program(seed, drop, forced), { strategy: "dpor", fields: true });
    if (fld.all.join("\n") !== dfs.all.join("\n")) return 1;
  }
  return 0;
}
