// Reverse-map operations that run with the folio locked (kernel-semantics §3, §13, §19):
// try_to_unmap (reclaim) and folio_mkclean (writeback). Model of mm/rmap.c try_to_unmap_one
// and page_vma_mkclean_one / folio_mkclean.
//
// try_to_unmap_one, per mapping (VMA): notifier start (event CLEAR) over the page, then ONE
// memory step for the PTL section (clear + flush the PTE and the secondary TLBs, move the dirty
// bit to the page, install the swap entry for anon pages, drop the rmap and the mapping's
// reference), then notifier end. The caller holds the folio lock throughout, and (not modelled
// as a blocking lock, lockdep only) the rmap lock: anon_vma->rwsem or i_mmap_rwsem. (Migration and
// khugepaged do take anon_vma->rwsem: Mm.anonVmaRwsem.)
//
// Field footprints (field-log.ts, lib/kernel/README.md): the PTL sections and the page_mapped
// checks are split: PTEs, TLB entries, the frames' arrays, the free list and swap (swap.ts) are
// recorded, a secondary-TLB callback trips (flushTlbRange), `page_unmapped` is a tracepoint whose
// oracle state is recorded. The rmap walks are not: they read `mm.users`, which trips.
//
// Simplification: reclaim's deferred TLB flush (TTU_BATCH_FLUSH, set_tlb_ubc_flush_pending) is
// modelled as an immediate ptep_clear_flush. Errs towards FEWER stale-CPU-TLB windows; device
// translations are unaffected (2018 ->invalidate_range runs in that same step either way).

import { note } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, kcall, leave } from "./kernel.ts";
import type { Mm } from "./mm.ts";
import { CAUSE_SWAP, PTE_DIRTY, PTE_PRESENT, PTE_SWAP, PTE_SWP_EXCLUSIVE, PTE_WRITE } from "./mm.ts";
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from "./mmu-notifier.ts";
import { PG_ANON, PG_ANON_EXCLUSIVE, PG_DIRTY, PG_SWAPCACHE } from "./page.ts";
import { flushTlbRange, ptepClearFlush, removeRmap, rmapWalk, setPte } from "./pgtable.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

function rmapLockClass(k: Kernel, pfn: number): string {
  return k.mem.flags[pfn] & PG_ANON ? "&anon_vma->rwsem" : "&mapping->i_mmap_rwsem";
}

/**
 * try_to_unmap(folio): unmap pfn from every mm. Caller holds the page lock. Returns true if no
 * mapping is left. Anon pages must already be in the swap cache (add_to_swap) to be unmapped.
 */
export function* try_to_unmap(k: Kernel, pfn: number): Gen<boolean> {
  const __f = enter(k, "try_to_unmap");
  try {
    const t = k.current();
    const cls = k.lockdep.classId(rmapLockClass(k, pfn));
    k.lockdep.acquire(t, cls, rmapLockClass(k, pfn), 1);
    const maps = yield* k.mem.step(`rmap_walk(frame ${pfn})`, "r", () => rmapWalk(k, pfn));
    let ok = true;
    for (const { mm, vpn } of maps) {
      if (!(yield* try_to_unmap_one(k, pfn, mm, vpn))) {
        ok = false;
        break;
      }
    }
    k.lockdep.release(t, cls);
    return ok && (yield* k.mem.fieldStep(`page_mapped(frame ${pfn})?`, "r", () => k.mem.mapcount[pfn] === 0));
  } finally {
    leave(__f);
  }
}

/** try_to_unmap_one for one (mm, vpn). Returns false if it had to give up (ret = false). */
export function* try_to_unmap_one(k: Kernel, pfn: number, mm: Mm, vpn: number): Gen<boolean> {
  const __f = enter(k, "try_to_unmap_one");
  try {
    const range = mmu_notifier_range_init(k, mm, vpn, vpn + 1, "CLEAR");
    yield* mmu_notifier_invalidate_range_start(k, range);
    const ok = yield* k.mem.fieldStep(`ptep_clear_flush(${mm.name}:${vpn}) + page_remove_rmap(${pfn})`, "w", () => {
      const mem = k.mem;
      if (mm.ptePfn[vpn] !== pfn || !(mm.pteFlags[vpn] & PTE_PRESENT)) return true; // raced: already gone
      const anon = (mem.flags[pfn] & PG_ANON) !== 0;
      if (anon) {
        // now: folio_try_share_anon_rmap_pte fails on an exclusive, maybe-pinned page.
        if (k.era.swapoutRefusesPinned && mem.flags[pfn] & PG_ANON_EXCLUSIVE && mem.maybeDmaPinned(pfn)) {
          note(`frame ${pfn} is exclusive and maybe pinned: not unmapped`);
          return false;
        }
        if (!(mem.flags[pfn] & PG_SWAPCACHE) || !k.swap) return false;
      }
      const old = ptepClearFlush(k, mm, vpn);
      removeRmap(k, mm, vpn, pfn, old);
      if (old & PTE_DIRTY) mem.setFlag(pfn, PG_DIRTY);
      if (anon) {
        const slot = k.swap!.pfnSlot[pfn];
        // pte_swp_mkexclusive: the swap entry remembers that the page was exclusive (now era only:
        // the 2018 era never sets PG_ANON_EXCLUSIVE).
        setPte(mm, vpn, slot, PTE_SWAP | (old & PTE_WRITE) | (mem.flags[pfn] & PG_ANON_EXCLUSIVE ? PTE_SWP_EXCLUSIVE : 0));
        k.swap!.count[slot]++;
        mm.changeCause[vpn] = CAUSE_SWAP;
        mem.flags[pfn] &= ~PG_ANON_EXCLUSIVE;
      }
      mem.putPage(pfn);
      note(`${mm.name}:${vpn} unmapped from frame ${pfn}`);
      return true;
    });
    yield* mmu_notifier_invalidate_range_end(k, range);
    return ok;
  } finally {
    leave(__f);
  }
}

/**
 * folio_mkclean (writeback): write-protect and clean every PTE mapping pfn, each inside a
 * PROTECTION_PAGE notifier range, so the next CPU write faults and calls ->page_mkwrite.
 * Returns whether any PTE was dirty. Caller holds the page lock.
 */
export function* folio_mkclean(k: Kernel, pfn: number): Gen<boolean> {
  const __f = enter(k, "folio_mkclean");
  try {
    const maps = yield* k.mem.step(`rmap_walk(frame ${pfn})`, "r", () => rmapWalk(k, pfn));
    let dirty = false;
    for (const { mm, vpn } of maps) {
      const range = mmu_notifier_range_init(k, mm, vpn, vpn + 1, "PROTECTION_PAGE");
      yield* mmu_notifier_invalidate_range_start(k, range);
      dirty =
        (yield* k.mem.fieldStep(`page_vma_mkclean_one(${mm.name}:${vpn})`, "w", () => {
          if (mm.ptePfn[vpn] !== pfn || !(mm.pteFlags[vpn] & PTE_PRESENT)) return false;
          const was = (mm.pteFlags[vpn] & PTE_DIRTY) !== 0;
          mm.pteFlags[vpn] &= ~(PTE_WRITE | PTE_DIRTY);
          flushTlbRange(k, mm, vpn, vpn + 1);
          return was;
        })) || dirty;
      yield* mmu_notifier_invalidate_range_end(k, range);
    }
    return dirty;
  } finally {
    leave(__f);
  }
}
