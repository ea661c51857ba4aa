// khugepaged collapse of one (scaled-down) PMD of anon pages (kernel-semantics §11). Model of
// mm/khugepaged.c (khugepaged_scan_pmd / hpage_collapse_scan_pmd, collapse_huge_page,
// __collapse_huge_page_isolate, __collapse_huge_page_copy). A PMD here is HPAGE_NR pages.
//
// scan under mmap_lock read: every PTE present, anon, refcount == mapcount (+ swap cache) —
// any GUP reference or pin aborts (`collapse-aborted`). Drop mmap_lock, allocate the huge page
// (GFP_TRANSHUGE: may reclaim, no mm locks held), take mmap_lock WRITE, revalidate, take the
// anon_vma lock for write, open a CLEAR notifier range over the PMD, pmdp_collapse_flush (all
// PTEs gone, TLB flushed), CLOSE the range, then re-check the refcounts (a GUP that raced in
// after the scan, or a swap or migration entry that replaced a PTE, aborts here: the PTEs are put
// back as they were, a spurious invalidation), drop the anon_vma lock, copy, install the new
// pages, free the old ones.
// A mirror re-faulting after range_end waits on mmap_lock (hmm_range_fault needs it for read).
//
// Field footprints (field-log.ts): the memory steps are split. Each reads and writes only
// recorded state: the VMA's bounds and flags, PTEs, TLB entries, the PMD (`pmdVal`, `detachedPte`),
// the frames' arrays and the free list (allocFrame, putPage, freeFrame, copyFrame, addRmap), the
// hardware counts (hwPut); plus immutable data (`k.era`, names, the thread's own `old`/`newPages`).
// The VMA is looked up before the scan's step, under mmap_lock (the list trips: mm.ts). A
// secondary-TLB callback in flushTlbRange trips (the step falls back).

import { finding, note } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, kcall, leave } from "./kernel.ts";
import { CAUSE_COLLAPSE, mmap_write_unlock, vma_start_write, type Mm, PMD_NONE, PTE_DIRTY, PTE_PRESENT, PTE_WRITE, PTE_YOUNG } from "./mm.ts";
import { GFP_TRANSHUGE, alloc_page } from "./gfp.ts";
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from "./mmu-notifier.ts";
import { HPAGE_NR, PG_ANON, PG_ANON_EXCLUSIVE, PG_HEAD, PG_LRU, PG_SWAPBACKED, PG_SWAPCACHE, newAnonExclusive } from "./page.ts";
import { addRmap, flushTlbRange, setPte } from "./pgtable.ts";
import { planted } from "./planted.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

/** is_refcount_suitable (count == mapcount + swapcache, v5.8+) or v4.16's count == 1 + swapcache, inside a step. */
function refsSuitable(k: Kernel, pfn: number, extra: number): boolean {
  const mem = k.mem;
  const mapped = k.era.khugepagedSharedCollapse ? mem.mapcount[pfn] : 1;
  if (planted(k, "khugepaged-ignores-refs")) return true;
  return mem.ref[pfn] === mapped + (mem.flags[pfn] & PG_SWAPCACHE ? 1 : 0) + extra;
}

/** Scan and collapse the PMD starting at `base` (HPAGE_NR-aligned). Returns true if collapsed. */
export function* khugepaged_scan_pmd(k: Kernel, mm: Mm, base: number): Gen<boolean> {
  const __f = enter(k, "khugepaged_scan_pmd");
  try {
    const mem = k.mem;
    const end = base + HPAGE_NR;
    yield* mm.mmapLock.downRead(`mmap_read_lock(${mm.name})`);
    // hugepage_vma_revalidate: the VMA list and bounds change only under mmap_lock for write, so
    // they are read here, under the read lock, outside the step (the list is not recorded).
    const vma = mm.findVma(base);
    const suitable = vma !== null && vma.isAnon() && vma.end >= end && vma.start <= base;
    const why = yield* mem.fieldStep(`hpage_collapse_scan_pmd(${mm.name}:${base}..${end})`, "r", () => {
      if (!suitable) return "no suitable VMA";
      for (let vpn = base; vpn < end; vpn++) {
        if (!(mm.pteFlags[vpn] & PTE_PRESENT)) return `pte ${vpn} not present`;
        const pfn = mm.ptePfn[vpn];
        if (!(mem.flags[pfn] & PG_ANON) || mem.flags[pfn] & PG_HEAD) return `pte ${vpn} not a small anon page`;
        if (!refsSuitable(k, pfn, 0)) return `frame ${pfn} has an extra reference (GUP or pin)`;
      }
      return "";
    });
    yield* mm.mmapLock.upRead(`mmap_read_unlock(${mm.name})`);
    if (why) {
      if (why.includes("extra reference")) finding("collapse-aborted", `khugepaged scan of ${mm.name}:${base}..${end}: ${why}`, { mm: mm.name, base });
      return false;
    }
    return yield* collapse_huge_page(k, mm, base);
  } finally {
    leave(__f);
  }
}

function* collapse_huge_page(k: Kernel, mm: Mm, base: number): Gen<boolean> {
  const __f = enter(k, "collapse_huge_page");
  try {
    const mem = k.mem;
    const end = base + HPAGE_NR;
    // Allocate the huge page with no mm lock held: the head through the allocator (reclaim,
    // lockdep), the tail frames in the same step as the head's... as a compound page.
    const head = yield* alloc_page(k, GFP_TRANSHUGE, "khugepaged_alloc_page");
    if (head < 0) return false;
    const tails = yield* mem.fieldStep("prep_compound_page", "w", () => {
      const t: number[] = [];
      for (let i = 1; i < HPAGE_NR; i++) t.push(mem.allocFrame());
      return t;
    });
    const newPages = [head, ...tails];
    yield* mm.mmapLock.downWrite(`mmap_write_lock(${mm.name})`);
    // hugepage_vma_revalidate: the VMA may have gone or changed while no lock was held.
    const cvma = mm.findVma(base);
    if (cvma === null || !cvma.isAnon() || cvma.start > base || cvma.end < end) {
      yield* mem.fieldStep("put the unused huge page", "w", () => {
        for (const p of newPages) if (p >= 0) mem.putPage(p);
      });
      yield* mmap_write_unlock(mm);
      return false;
    }
    yield* vma_start_write(cvma);
    // anon_vma_lock_write: no rmap walk (migration's try_to_migrate and remove_migration_ptes)
    // runs while the PTE table is detached, until the isolate step has put it back or isolated
    // every page (locked, so no walker can start on them afterwards).
    const av = mm.anonVmaRwsem();
    yield* av.downWrite(`anon_vma_lock_write(${mm.name})`);
    const range = mmu_notifier_range_init(k, mm, base, end, "CLEAR");
    yield* mmu_notifier_invalidate_range_start(k, range);
    const old = yield* mem.fieldStep(`pmdp_collapse_flush(${mm.name}:${base}..${end})`, "w", () => {
      const saved: number[] = [];
      for (let vpn = base; vpn < end; vpn++) {
        // The whole entry: a swap or migration entry keeps its slot or frame when put back.
        saved.push(mm.ptePfn[vpn], mm.pteFlags[vpn]);
        // The PMD is cleared; the PTE table itself is detached intact (GUP-fast may still walk it).
        if (mm.pteFlags[vpn] & PTE_PRESENT) mm.detachedPte.set(vpn, [mm.pteFlags[vpn], mm.ptePfn[vpn]]);
        mm.pteFlags[vpn] = 0;
      }
      mm.pmdVal.set(base, PMD_NONE);
      flushTlbRange(k, mm, base, end);
      return saved;
    });
    yield* mmu_notifier_invalidate_range_end(k, range);
    // __collapse_huge_page_isolate walks the PTEs in order and stops at the first that is not
    // present (SCAN_PTE_NON_PRESENT: a swap or migration entry put there after the scan) or whose
    // page it cannot lock (trylock_page: SCAN_PAGE_LOCK); the reference check follows (below).
    // The locks go with release_pte_page after the copy.
    const locked: number[] = [];
    let why = "";
    for (let i = 0; i < HPAGE_NR && !why; i++) {
      const pfn = old[2 * i];
      if (!(old[2 * i + 1] & PTE_PRESENT)) why = `pte ${base + i} was no longer present (${old[2 * i + 1] === 0 ? "none: zapped" : "a swap or migration entry"})`;
      else if (yield* k.pageLock(pfn).trylock(`trylock_page(${pfn}) (__collapse_huge_page_isolate)`)) locked.push(pfn);
      else why = "a page was locked (trylock_page failed)";
    }
    // __collapse_huge_page_isolate: re-check under the PTL, with the PMD detached. Then the PTL
    // is dropped (spin_unlock(pte_ptl), anon_vma_unlock_write) before __collapse_huge_page_copy:
    // two steps, as in mm/khugepaged.c (v4.16 and today). Only a GUP-fast still walking the
    // detached table can act in between (tlbFlushWaitsForGupFast off): it takes its reference
    // after the check.
    const isolated = yield* mem.fieldStep(`__collapse_huge_page_isolate(${mm.name}:${base}..${end})`, "w", () => {
      for (let i = 0; i < HPAGE_NR; i++) {
        if (!why && !refsSuitable(k, old[2 * i], 0)) why = "a reference appeared after the scan";
        if (why) {
          // Put the PTEs back (pmd_populate of the old table): nothing changed for the CPU.
          for (let j = 0; j < HPAGE_NR; j++) {
            mm.ptePfn[base + j] = old[2 * j];
            mm.pteFlags[base + j] = old[2 * j + 1];
            mm.detachedPte.delete(base + j);
          }
          mm.pmdVal.delete(base); // the same table again: the same pmd_val
          for (const p of newPages) if (p >= 0) mem.putPage(p);
          return false;
        }
      }
      return true;
    });
    yield* av.upWrite(`anon_vma_unlock_write(${mm.name})`);
    // __collapse_huge_page_copy + install the huge mapping; old pages lose their mapping.
    const ok = isolated && (yield* mem.fieldStep(`__collapse_huge_page_copy(${mm.name}:${base}..${end})`, "w", () => {
      for (let i = 0; i < HPAGE_NR; i++) {
        const vpn = base + i, o = old[2 * i], n = newPages[i];
        mem.copyFrame(n, o);
        mem.flags[n] |= PG_ANON | PG_SWAPBACKED | PG_LRU | (i === 0 ? PG_HEAD : 0) | newAnonExclusive(k.era);
        mem.anonMm[n] = mm.id;
        mem.index[n] = vpn;
        addRmap(k, n);
        mem.putPage(n);
        setPte(mm, vpn, n, PTE_PRESENT | PTE_YOUNG | PTE_DIRTY | (old[2 * i + 1] & PTE_WRITE));
        mm.changeCause[vpn] = CAUSE_COLLAPSE;
        mm.detachedPte.delete(vpn); // __collapse_huge_page_copy: ptep_clear of the old entry
        mem.mapcount[o]--;
        mem.putPage(o); // the old mapping's reference: freed (the PMD flush came first)
      }
      mm.pmdVal.set(base, PMD_NONE + 2 + head); // set_pmd_at of the huge PMD: a new pmd_val
      return true;
    }));
    // The kernel unlocks each old page right after copying it and before freeing it; here the
    // unlocks follow the step that copied and freed them, so a task that reuses a freed frame may
    // wait a few steps for its lock (more waiting, never a missed interleaving).
    for (const pfn of locked) yield* k.pageLock(pfn).unlock(`unlock_page(${pfn}) (release_pte_page)`);
    yield* mmap_write_unlock(mm);
    if (!ok) finding("collapse-aborted", `collapse of ${mm.name}:${base}..${end} aborted after the invalidation: ${why}`, { mm: mm.name, base });
    else note(`${mm.name}:${base}..${end} collapsed into a huge page at frame ${head}`);
    return ok;
  } finally {
    leave(__f);
  }
}
