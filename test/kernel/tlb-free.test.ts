// A page freed while a CPU TLB still caches it (issue 14, blind spot 2). The kernel frees the
// pages of a zap only after the TLB flush: mm/mmu_gather.c tlb_flush_mmu (v4.16 and v6.x) calls
// tlb_flush_mmu_tlbonly before tlb_flush_mmu_free / tlb_batch_pages_flush. Scenario: a second CPU
// thread of the process touches the page (a store fills the TLB, a load may use the entry later)
// while munmap or MADV_DONTNEED zaps it. Correct kernel: no uaf. With the flush removed
// (planted "gather-no-tlb-flush"), the frame is freed while the TLB entry references it, and the
// later load reads the freed frame: uaf Sometimes.
import { describe, expect, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, type Era } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, PTE_DIRTY, VM_MAYWRITE, VM_READ, VM_SHARED, VM_WRITE } from "../../lib/kernel/mm.ts";
import { file_create } from "../../lib/kernel/file.ts";
import { MmuNotifier } from "../../lib/kernel/mmu-notifier.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { munmap } from "../../lib/kernel/munmap.ts";
import { madvise_dontneed } from "../../lib/kernel/madvise.ts";
import { user_read, user_write } from "../../lib/kernel/user.ts";
import type { PlantedBug } from "../../lib/kernel/planted.ts";

export const tlbFreeScenario = (era: Era, how: "munmap" | "dontneed", planted: readonly PlantedBug[] = []) =>
  model(`S15 ${how} vs a second CPU thread (${era.name}${planted.length ? `, planted ${planted.join(",")}` : ""})`, () => {
    const k = boot(era, { planted });
    const mm = mm_alloc(k, 4, "proc");
    mmap_region(mm, 0, 1);
    populate(k, mm, 0, 1);
    return {
      threads: {
        Zap: function* () {
          if (how === "munmap") yield* munmap(k, mm, 0, 1);
          else yield* madvise_dontneed(k, mm, 0, 1);
        },
        Toucher: function* () {
          yield* user_write(k, mm, 0);
          yield* user_read(k, mm, 0);
        },
      },
    };
  });

describe("S15: a zap frees a page only after the CPU TLB flush", () => {
  for (const era of [E18, ENOW])
    for (const how of ["munmap", "dontneed"] as const) {
      it(`${how}, ${era.name}: uaf Never; with the flush removed, Sometimes (CPU TLB at the free, then the load)`, () => {
        const ok = claim({ title: "uaf", model: tlbFreeScenario(era, how), predicate: (e) => e.has("uaf"), expect: "Never" });
        expect(ok.coverage.kind).toBe("exhaustive");
        const bad = claim({ title: "uaf", model: tlbFreeScenario(era, how, ["gather-no-tlb-flush"]), predicate: (e) => e.has("uaf"), expect: "Sometimes" });
        expect(bad.witness!.text).toMatch(/CPU TLB/);
      });
    }

  it("the stale entry is used: the second thread's load reaches the freed frame", () => {
    claim({ title: "cpu uaf", model: tlbFreeScenario(E18, "munmap", ["gather-no-tlb-flush"]), predicate: (e) => e.findings.some((f) => f.kind === "uaf" && (f.data as { via?: string }).via === "cpu"), expect: "Sometimes" });
  });
});

// zap_pte_range's force_flush: a dirty file PTE makes the gather flush and free before the zap
// returns, so an anonymous page gathered before it is freed inside the notifier range (before
// invalidate_range_end), with the default unlimited batch.
describe("a dirty shared file PTE forces the gather's flush inside the notifier range", () => {
  const scenario = (era: Era, dirtyFile: boolean) =>
    model(`force_flush (${era.name}, file PTE ${dirtyFile ? "dirty" : "clean"})`, () => {
      const k = boot(era);
      const mm = mm_alloc(k, 4, "proc");
      mmap_region(mm, 0, 1);
      mmap_region(mm, 1, 1, VM_READ | VM_WRITE | VM_MAYWRITE | VM_SHARED, file_create(k, "f", 1));
      const [anon] = populate(k, mm, 0, 2);
      if (dirtyFile) mm.pteFlags[1] |= PTE_DIRTY;
      else mm.pteFlags[1] &= ~PTE_DIRTY;
      let freedInside = false;
      const sub = new MmuNotifier({ name: "watch", *invalidate_range_end() { freedInside = k.mem.isFree(anon); } });
      sub.mm = mm;
      mm.notifiers.hlist.push(sub);
      return { threads: { Zap: function* () { yield* munmap(k, mm, 0, 2); } }, final: () => freedInside };
    });
  for (const era of [E18, ENOW])
    it(`${era.name}: freed before range_end only when the file PTE is dirty`, () => {
      claim({ title: "dirty", model: scenario(era, true), predicate: (e) => e.final, expect: "Always" });
      claim({ title: "clean", model: scenario(era, false), predicate: (e) => e.final, expect: "Never" });
    });
});
