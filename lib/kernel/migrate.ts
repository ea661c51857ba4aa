// Page migration / compaction of one page (kernel-semantics §12). Model of mm/migrate.c
// (migrate_pages -> migrate_folio_unmap -> try_to_migrate, folio_migrate_mapping,
// remove_migration_ptes) and mm/rmap.c try_to_migrate_one.
//
// isolate (+1 ref) -> lock_page -> allocate the target -> try_to_migrate: per mapping a
// notifier range (CLEAR) around replacing the PTE by a migration entry (flush, rmap and the
// mapping's reference dropped) -> folio_migrate_mapping: refcount must equal the expected
// count (isolation + page cache); ANY other reference (GUP, pin) gives -EAGAIN: the migration
// entries are restored to the OLD page (a "spurious" invalidation: nothing changed) -> else copy,
// point the PTEs at the new page, free the old one. CPU faults on migration entries wait.
//
// Simplification: no retry loop by default (migrate_pages retries 10 times); pass `tries`.
// The target frame is taken without reclaim (compaction's allocator does not reclaim).

import { finding, note } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import type { KRwSem } from "./rwsem.ts";
import { enter, kcall, leave } from "./kernel.ts";
import { CAUSE_MIGRATION, PTE_DIRTY, PTE_MIGRATION, PTE_PRESENT, PTE_SWP_EXCLUSIVE, PTE_WRITE, PTE_YOUNG } from "./mm.ts";
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from "./mmu-notifier.ts";
import { PG_ANON, PG_ANON_EXCLUSIVE, PG_DIRTY, PG_LRU, PG_SWAPBACKED, PG_SWAPCACHE } from "./page.ts";
import { addRmap, ptepClearFlush, removeRmap, rmapWalk, setPte } from "./pgtable.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

export const MIGRATEPAGE_SUCCESS = 0;

/**
 * Who asks for the migration. "compaction" is mm/compaction.c isolate_migratepages_block, which
 * skips an anonymous page whose refcount exceeds its mapcount before isolating it (119d6d59dcc0
 * "mm, compaction: avoid isolating pinned pages", v3.15; an unlocked, racy check: a GUP reference
 * taken after it still meets the full migration below). "move_pages" is every caller without that
 * check: move_pages(2), mbind, memory offlining.
 */
export type MigrateReason = "compaction" | "move_pages";

/** migrate_pages for one frame. Returns 0 on success, -EAGAIN if references kept it, -EBUSY if not isolated. */
export function* migrate_page(k: Kernel, pfn: number, tries = 1, reason: MigrateReason = "move_pages"): Gen<number> {
  const __f = enter(k, reason === "compaction" ? "isolate_migratepages_block" : "migrate_pages");
  try {
    const mem = k.mem;
    const isolated = yield* mem.step(`isolate_lru_page(${pfn})`, "w", () => {
      if (mem.isFree(pfn) || !(mem.flags[pfn] & PG_LRU)) return false;
      // page_mapping() is NULL for an anon page outside the swap cache: only then does the check apply.
      if (reason === "compaction" && (mem.flags[pfn] & (PG_ANON | PG_SWAPCACHE)) === PG_ANON && mem.ref[pfn] > mem.mapcount[pfn]) return false;
      mem.flags[pfn] &= ~PG_LRU;
      mem.ref[pfn]++;
      return true;
    });
    if (!isolated) return -16;
    let result = -11;
    for (let attempt = 0; attempt < tries && result !== MIGRATEPAGE_SUCCESS; attempt++) result = yield* unmap_and_move(k, pfn);
    if (result !== MIGRATEPAGE_SUCCESS) {
      finding("migrate-aborted", `migration of frame ${pfn} gave up: a reference other than the mappings and the isolation holds it`, { pfn });
      yield* mem.step(`putback_movable_pages(${pfn})`, "w", () => {
        mem.flags[pfn] |= PG_LRU;
        mem.putPage(pfn);
      });
    }
    return result;
  } finally {
    leave(__f);
  }
}

/** The anon_vma lock an rmap walk of pfn takes (folio_lock_anon_vma_read), or null for a file
 *  page. Read outside a step: the caller holds the page lock and the isolation reference, so the
 *  frame's owner cannot change. */
function anonVmaOf(k: Kernel, pfn: number): KRwSem | null {
  const mem = k.mem;
  return mem.flags[pfn] & PG_ANON ? k.mms[mem.anonMm[pfn]].anonVmaRwsem() : null;
}

function* unmap_and_move(k: Kernel, pfn: number): Gen<number> {
  const __f = enter(k, "migrate_folio_unmap");
  try {
    const mem = k.mem;
    const lock = k.pageLock(pfn);
    yield* lock.lock();
    const neu = yield* mem.step("alloc migration target", "w", () => mem.allocFrame());
    if (neu < 0) {
      yield* lock.unlock();
      return -12;
    }
    // try_to_migrate: replace every mapping by a migration entry, under the page's anon_vma lock
    // for read (rmap_walk -> anon_vma_lock_read; a file page's i_mmap_rwsem is not modelled).
    // (No migration entry for pfn exists yet: the page lock keeps a second migration out.)
    const av = anonVmaOf(k, pfn);
    if (av) yield* av.downRead(`anon_vma_lock_read(frame ${pfn})`);
    const maps = yield* mem.step(`rmap_walk(frame ${pfn})`, "r", () => rmapWalk(k, pfn, true));
    for (const { mm, vpn } of maps) {
      const range = mmu_notifier_range_init(k, mm, vpn, vpn + 1, "CLEAR");
      yield* mmu_notifier_invalidate_range_start(k, range);
      yield* mem.step(`try_to_migrate_one(${mm.name}:${vpn}): migration entry`, "w", () => {
        if (mm.ptePfn[vpn] !== pfn || !(mm.pteFlags[vpn] & PTE_PRESENT)) return;
        // v6.x: exclusivity moves from the page into the entry (folio_try_share_anon_rmap_pte
        // clears PageAnonExclusive; the entry is writable or readable_exclusive), and fails on a
        // page that may be pinned: that PTE stays, and the migration then fails (still mapped).
        // (PG_ANON_EXCLUSIVE is never set in the 2018 era.)
        const exclusive = (mem.flags[pfn] & PG_ANON_EXCLUSIVE) !== 0;
        if (exclusive && mem.maybeDmaPinned(pfn)) {
          note(`frame ${pfn} is exclusive and maybe pinned: ${mm.name}:${vpn} stays mapped`);
          return;
        }
        const old = ptepClearFlush(k, mm, vpn);
        removeRmap(k, mm, vpn, pfn, old);
        if (old & PTE_DIRTY) mem.setFlag(pfn, PG_DIRTY); // try_to_migrate_one: folio_mark_dirty
        mem.putPage(pfn);
        mem.flags[pfn] &= ~PG_ANON_EXCLUSIVE;
        setPte(mm, vpn, pfn, PTE_MIGRATION | (old & (PTE_WRITE | PTE_DIRTY)) | (exclusive ? PTE_SWP_EXCLUSIVE : 0));
      });
      yield* mmu_notifier_invalidate_range_end(k, range);
    }
    if (av) yield* av.upRead(`anon_vma_unlock_read(frame ${pfn})`);
    // folio_migrate_mapping: expected = isolation + page cache.
    const ok = yield* mem.step(`folio_migrate_mapping(${pfn} -> ${neu})`, "w", () => {
      const expected = 1 + (mem.mapping[pfn] >= 0 ? 1 : 0);
      if (mem.ref[pfn] !== expected) {
        note(`refcount ${mem.ref[pfn]} != expected ${expected}: -EAGAIN`);
        return false;
      }
      mem.copyFrame(neu, pfn);
      // Not PG_ANON_EXCLUSIVE: it travels in the migration entries (folio_migrate_flags).
      mem.flags[neu] |= mem.flags[pfn] & (PG_ANON | PG_SWAPBACKED);
      mem.flags[neu] |= PG_LRU;
      mem.anonMm[neu] = mem.anonMm[pfn];
      mem.index[neu] = mem.index[pfn];
      if (mem.mapping[pfn] >= 0) {
        const f = k.files[mem.mapping[pfn]];
        f.cache[mem.index[pfn]] = neu;
        mem.mapping[neu] = mem.mapping[pfn];
        mem.mapping[pfn] = -1;
        mem.ref[pfn]--;
        mem.ref[neu]++;
      }
      return true;
    });
    const target = ok ? neu : pfn;
    // remove_migration_ptes: point the entries at the new page, or back at the old one. An rmap
    // walk, not the list try_to_migrate made: a fork in between copied entries into the child.
    // It waits for a khugepaged collapse that holds the PTE table detached (anon_vma lock).
    if (av) yield* av.downRead(`anon_vma_lock_read(frame ${pfn})`);
    yield* mem.step(`remove_migration_ptes(${pfn} -> ${target})`, "w", () => {
      for (const { mm, vpn } of rmapWalk(k, pfn, true)) {
        if (!(mm.pteFlags[vpn] & PTE_MIGRATION) || mm.ptePfn[vpn] !== pfn) continue;
        const w = mm.pteFlags[vpn] & (PTE_WRITE | PTE_DIRTY);
        if (mm.pteFlags[vpn] & PTE_SWP_EXCLUSIVE) mem.flags[target] |= PG_ANON_EXCLUSIVE; // RMAP_EXCLUSIVE
        addRmap(k, target);
        setPte(mm, vpn, target, PTE_PRESENT | PTE_YOUNG | w);
        if (ok) mm.changeCause[vpn] = CAUSE_MIGRATION;
      }
      if (!ok) mem.putPage(neu);
    });
    if (av) yield* av.upRead(`anon_vma_unlock_read(frame ${pfn})`);
    yield* lock.unlock();
    if (ok) {
      yield* mem.step(`free old frame ${pfn}`, "w", () => {
        mem.putPage(neu); // the allocation's reference: the mappings hold it now
        mem.putPage(pfn); // the isolation reference
      });
      note(`frame ${pfn} migrated to ${neu}`);
      return MIGRATEPAGE_SUCCESS;
    }
    return -11;
  } finally {
    leave(__f);
  }
}
