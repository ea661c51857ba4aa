// A khugepaged collapse meets a PTE that stopped being present after its scan (kernel-semantics
// §11, §12). mm/khugepaged.c collapse_huge_page detaches the PTE table (pmdp_collapse_flush) with
// anon_vma_lock_write held; __collapse_huge_page_isolate finds the swap or migration entry
// (SCAN_PTE_NON_PRESENT) and pmd_populate puts the same table back, entries intact. Migration's
// rmap walks (try_to_migrate, remove_migration_ptes) take the anon_vma lock for read, so they
// wait out the detached window. The model once saved such an entry without its frame or slot
// (pfn -1) and took no anon_vma lock: the restored entry named no frame, and a migration entry
// outlived its migration (a fault on it would wait forever); a swap entry lost its slot.
import { describe, it } from "vitest";
import { claim, Completion, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ERAS } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, PTE_MIGRATION, PTE_PRESENT, PTE_SWAP, type Mm } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { fork } from "../../lib/kernel/fork.ts";
import { migrate_page } from "../../lib/kernel/migrate.ts";
import { khugepaged_scan_pmd } from "../../lib/kernel/khugepaged.ts";
import { shrink_folio_list } from "../../lib/kernel/vmscan.ts";
import { swapon } from "../../lib/kernel/swap.ts";
import { GFP_KERNEL } from "../../lib/kernel/gfp.ts";
import { HPAGE_NR } from "../../lib/kernel/page.ts";

/**
 * The PTEs of the PMD at the end: `left` counts migration entries (their migration is over, so a
 * fault on one would wait forever), `lost` the entries that are none at all, and the swap and
 * migration entries that name no frame or no live swap slot (with `swapCount`, the slot's count).
 */
function entries(mm: Mm, swapCount?: Int32Array): { left: number; lost: number } {
  let left = 0, lost = 0;
  for (let vpn = 0; vpn < HPAGE_NR; vpn++) {
    const f = mm.pteFlags[vpn], v = mm.ptePfn[vpn];
    if (f & PTE_MIGRATION) left++;
    if (f === 0) lost++;
    else if (!(f & PTE_PRESENT) && (v < 0 || (f & PTE_SWAP && swapCount !== undefined && swapCount[v] < 1))) lost++;
  }
  return { left, lost };
}

const nonPresent = (e: { findings: readonly { kind: string; message: string }[] }) =>
  e.findings.some((f) => f.kind === "collapse-aborted" && f.message.includes("no longer present"));

describe.each(ERAS)("khugepaged meets a PTE that is no longer present ($name)", (era) => {
  it("migration beside the collapse: no migration entry outlives it, no entry loses its frame", () => {
    const m = model("collapse beside migration", () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, HPAGE_NR);
      const pfns = populate(k, mm, 0, HPAGE_NR);
      return {
        threads: {
          Khugepaged: function* () { yield* khugepaged_scan_pmd(k, mm, 0); },
          Migrate: function* () { yield* migrate_page(k, pfns[1]); },
        },
        final: () => entries(mm),
      };
    });
    claim({ title: "a migration entry left", model: m, predicate: (e) => e.final.left > 0, expect: "Never" });
    claim({ title: "an entry lost", model: m, predicate: (e) => e.final.lost > 0, expect: "Never" });
    // The window is reached: the collapse meets the migration entry and puts the table back.
    claim({ title: "the collapse meets a migration entry and aborts", model: m, predicate: nonPresent, expect: "Sometimes" });
    // try_to_migrate's walk holds the anon_vma lock too: a collapse cannot take the PTE away
    // between the walk and try_to_migrate_one, which would leave the page mapped and the
    // migration failed on its refcount.
    claim({ title: "the migration gives up", model: m, predicate: (e) => e.has("migrate-aborted"), expect: "Never" });
  });

  it("a forked child's collapse beside the migration of a page it shares: the parent's anon_vma root is the child's", () => {
    const m = model("fork, then the child's collapse beside migration", () => {
      const k = boot(era);
      const parent = mm_alloc(k, 8), child = mm_alloc(k, 8);
      mmap_region(parent, 0, HPAGE_NR);
      const pfns = populate(k, parent, 0, HPAGE_NR);
      // The migration starts after the fork (fork beside migration: migration-entries.test.ts).
      const forked = new Completion("forked");
      return {
        threads: {
          Khugepaged: function* () {
            yield* fork(k, parent, child);
            yield* forked.complete();
            yield* khugepaged_scan_pmd(k, child, 0);
          },
          Migrate: function* () {
            yield* forked.wait();
            yield* migrate_page(k, pfns[1]);
          },
        },
        final: () => entries(child).left + entries(parent).left,
      };
    });
    claim({ title: "a migration entry left", model: m, predicate: (e) => e.final > 0, expect: "Never" });
  });

  it("reclaim beside the collapse: a swap entry keeps a live slot", () => {
    const m = model("collapse beside swap-out", () => {
      const k = boot(era, { reclaimCandidates: () => [] });
      swapon(k);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, HPAGE_NR);
      const pfns = populate(k, mm, 0, HPAGE_NR);
      return {
        threads: {
          Khugepaged: function* () { yield* khugepaged_scan_pmd(k, mm, 0); },
          Reclaim: function* () {
            yield* shrink_folio_list(k, pfns[1], GFP_KERNEL, false);
          },
        },
        // After both: the page is mapped or its swap entry names a live slot.
        final: () => entries(mm, k.swap!.count),
      };
    });
    claim({ title: "an entry lost (a swap entry names no live slot)", model: m, predicate: (e) => e.final.lost > 0, expect: "Never" });
    claim({ title: "the collapse meets a swap entry and aborts", model: m, predicate: nonPresent, expect: "Sometimes" });
  });
});

// The refcount test that lets a collapse through: v4.16 wanted page_count == 1 (+ swap cache), so a
// page shared with a forked child (mapcount 2, count 2) stayed; since 855921474514 ("khugepaged:
// allow to collapse a page shared across fork", v5.8) is_refcount_suitable expects the mapcount.
describe.each(ERAS)("khugepaged and a page shared across fork ($name)", (era) => {
  it(era.khugepagedSharedCollapse ? "collapses it" : "refuses it", () => {
    const m = model("collapse after fork", () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8), child = mm_alloc(k, 8);
      mmap_region(mm, 0, HPAGE_NR);
      populate(k, mm, 0, HPAGE_NR);
      let collapsed = false;
      return {
        threads: { T: function* () { yield* fork(k, mm, child); collapsed = yield* khugepaged_scan_pmd(k, mm, 0); } },
        final: () => collapsed,
      };
    });
    claim({ title: "collapsed", model: m, predicate: (e) => e.final, expect: era.khugepagedSharedCollapse ? "Always" : "Never" });
  });
});

// A GUP reference keeps a page out of a collapse (is_refcount_suitable; v4.16's page_count test).
// The planted khugepaged-ignores-refs drops that test, which chapter 05's what-ifs rely on.
describe.each(ERAS)("khugepaged and a page held by get_user_pages ($name)", (era) => {
  const collapseHeld = (plant: boolean) => model(`collapse of a GUP-held page${plant ? " (planted)" : ""}`, () => {
    const k = boot(era, { planted: plant ? ["khugepaged-ignores-refs"] : [] });
    const mm = mm_alloc(k, 8);
    mmap_region(mm, 0, HPAGE_NR);
    const pfns = populate(k, mm, 0, HPAGE_NR);
    k.mem.ref[pfns[1]]++; // a GUP reference (FOLL_GET) on page 1
    k.mem.gets[pfns[1]]++;
    let collapsed = false;
    return { threads: { T: function* () { collapsed = yield* khugepaged_scan_pmd(k, mm, 0); } }, final: () => collapsed };
  });
  it("refuses it", () => {
    claim({ title: "collapsed", model: collapseHeld(false), predicate: (e) => e.final, expect: "Never" });
  });
  it("collapses it with the planted khugepaged-ignores-refs", () => {
    claim({ title: "collapsed", model: collapseHeld(true), predicate: (e) => e.final, expect: "Always" });
  });
});
