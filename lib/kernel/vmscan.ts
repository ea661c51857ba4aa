// Page reclaim (kernel-semantics §13). Model of mm/vmscan.c: try_to_free_pages -> shrink_node
// (shrink_folio_list on LRU pages, then shrink_slab), and kswapd's balance_pgdat.
//
// Which LRU page reclaim picks is the explorer's choice among the candidates (every LRU frame,
// or BootOptions.reclaimCandidates). One page per reclaim pass: enough to reach every callback
// that reclaim can make, and it keeps models small (errs towards fewer simultaneous unmaps).
//
// shrink_folio_list for one page:
//   isolate (+1 ref) -> trylock_page (skip if locked) -> writeback? keep -> anon not in swap
//   cache: needs __GFP_IO, (now) must not be maybe-pinned, gets a swap slot and is dirtied ->
//   mapped? try_to_unmap (notifiers run with the page locked) -> still mapped? keep -> dirty
//   file page: direct reclaim does not write file pages, keep -> dirty anon: pageout to swap
//   (needs __GFP_IO; modelled synchronous) -> buffers: filemap_release_folio drops them (no
//   refcount check: this is the gup+writeback hazard of S7) -> __remove_mapping freezes the
//   refcount at 2 (isolation + cache): any other reference (GUP) keeps the page -> free.
//
// Simplification: pageout to swap completes at once (errs towards freeing earlier: more uaf
// windows, never fewer). Referenced/active aging is not modelled (errs towards reclaiming hot
// pages the kernel would keep a while: more reclaim, never less).
//
// Field footprints (field-log.ts, lib/kernel/README.md): every memory step here is split. Each
// reads and writes only recorded state (the frames' arrays, the free list, swap: swap.ts) plus
// immutable data (`k.era`, `k.swap` itself, `k.reclaimCandidates`, a constant list); releasing a
// page-cache page writes the file's cache, which no wrapper sees, so that branch trips.

import { choose, note } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, kcall, leave } from "./kernel.ts";
import { __GFP_FS, __GFP_IO, GFP_KERNEL } from "./gfp.ts";
import { FS_RECLAIM } from "./lockdep.ts";
import { PG_ANON, PG_DIRTY, PG_LRU, PG_PRIVATE, PG_SWAPBACKED, PG_SWAPCACHE, PG_WRITEBACK } from "./page.ts";
import { try_to_unmap } from "./rmap.ts";
import { deleteFromSwapCache } from "./swap.ts";
import { fieldTrip } from "./field-log.ts";
import { shrink_slab } from "./shrinker.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

/** Frames reclaim may pick now (inside a step). */
function candidates(k: Kernel): number[] {
  const mem = k.mem;
  const pick = k.reclaimCandidates ? k.reclaimCandidates() : null;
  const out: number[] = [];
  if (pick) {
    for (const pfn of pick) if (!mem.isFree(pfn) && mem.flags[pfn] & PG_LRU) out.push(pfn);
    return out;
  }
  // From frame 1: frame 0 is the zero page (PhysMem.isZeroPage).
  for (let pfn = 1; pfn < mem.nframes; pfn++) if (!mem.isFree(pfn) && mem.flags[pfn] & PG_LRU) out.push(pfn);
  return out;
}

/** try_to_free_pages: one pass of shrink_node. Returns pages freed. */
export function* try_to_free_pages(k: Kernel, gfp: number): Gen<number> {
  const __f = enter(k, "try_to_free_pages");
  try {
    // The candidate set is read at the start of the pass; which one is taken is explored.
    const cands = yield* k.mem.fieldStep("shrink_node: scan the inactive LRU", "r", () => candidates(k));
    let freed = 0;
    if (cands.length > 0) {
      const pfn = yield* choose("reclaim picks", [-1, ...cands]);
      if (pfn >= 0) freed += yield* shrink_folio_list(k, pfn, gfp, false);
    }
    freed += yield* shrink_slab(k, gfp);
    return freed;
  } finally {
    leave(__f);
  }
}

/** shrink_folio_list for one frame. Returns 1 if it was freed. */
export function* shrink_folio_list(k: Kernel, pfn: number, gfp: number, kswapd: boolean): Gen<number> {
  const __f = enter(k, "shrink_folio_list");
  try {
    const mem = k.mem;
    const isolated = yield* mem.fieldStep(`isolate_lru_folio(${pfn})`, "w", () => {
      if (mem.isFree(pfn) || !(mem.flags[pfn] & PG_LRU)) return false;
      mem.flags[pfn] &= ~PG_LRU;
      mem.ref[pfn]++;
      return true;
    });
    if (!isolated) return 0;
    const lock = k.pageLock(pfn);
    if (!(yield* lock.trylock())) {
      yield* putback(k, pfn, "page locked");
      return 0;
    }
    // Decide what to do with the locked page.
    const verdict = yield* mem.fieldStep(`shrink_folio_list: check frame ${pfn}`, "w", () => {
      const f = mem.flags[pfn];
      if (f & PG_WRITEBACK) return "keep: under writeback";
      if (f & PG_ANON && f & PG_SWAPBACKED && !(f & PG_SWAPCACHE)) {
        if (!(gfp & __GFP_IO)) return "keep: anon page needs __GFP_IO to be swapped";
        if (k.era.swapoutRefusesPinned && mem.maybeDmaPinned(pfn)) return "keep: maybe pinned";
        const swap = k.swap;
        if (!swap) return "keep: no swap";
        const slot = swap.allocSlot();
        if (slot < 0) return "keep: swap full";
        // add_to_swap: into the swap cache (one reference), marked dirty.
        swap.slotPfn[slot] = pfn;
        swap.pfnSlot[pfn] = slot;
        mem.flags[pfn] |= PG_SWAPCACHE | PG_DIRTY;
        mem.ref[pfn]++;
        note(`frame ${pfn} added to swap slot ${slot}`);
      }
      return "";
    });
    if (verdict) return yield* keep(k, pfn, verdict);
    if (yield* mem.fieldStep(`page_mapped(${pfn})?`, "r", () => mem.mapcount[pfn] > 0)) {
      if (!(yield* try_to_unmap(k, pfn))) return yield* keep(k, pfn, "still mapped");
    }
    const v2 = yield* mem.fieldStep(`shrink_folio_list: pageout / release frame ${pfn}`, "w", () => {
      const f = mem.flags[pfn];
      if (f & PG_DIRTY) {
        if (!(f & PG_ANON)) {
          if (!kswapd || !(gfp & __GFP_FS)) return "keep: dirty file page (direct reclaim does not write file pages)";
          return "keep: dirty file page queued for writeback";
        }
        if (!(gfp & __GFP_IO)) return "keep: dirty anon page needs __GFP_IO";
        // pageout() to swap, completed at once.
        const slot = k.swap!.pfnSlot[pfn];
        k.swap!.data[slot] = mem.contents[pfn];
        mem.flags[pfn] &= ~PG_DIRTY;
        note(`frame ${pfn} written to swap slot ${slot}`);
      }
      if (!(f & PG_ANON) && f & PG_PRIVATE) {
        // filemap_release_folio -> try_to_free_buffers: no refcount check.
        mem.flags[pfn] &= ~PG_PRIVATE;
        note(`frame ${pfn}: buffers released`);
      }
      // __remove_mapping: freeze the refcount at isolation + cache.
      if (mem.ref[pfn] !== 2) return `keep: refcount ${mem.ref[pfn]} != 2 (someone holds a reference)`;
      if (f & PG_SWAPCACHE) deleteFromSwapCache(k, pfn);
      else if (mem.mapping[pfn] >= 0) {
        fieldTrip(mem.fields); // the page cache has no wrapper
        const file = k.files[mem.mapping[pfn]];
        file.cache[mem.index[pfn]] = -1;
        mem.mapping[pfn] = -1;
      }
      mem.ref[pfn]--; // the cache's reference
      return "";
    });
    if (v2) return yield* keep(k, pfn, v2);
    yield* lock.unlock();
    yield* mem.fieldStep(`free frame ${pfn}`, "w", () => mem.putPage(pfn));
    return 1;
  } finally {
    leave(__f);
  }
}

function* keep(k: Kernel, pfn: number, why: string): Gen<number> {
  yield* k.pageLock(pfn).unlock();
  yield* putback(k, pfn, why);
  return 0;
}

function* putback(k: Kernel, pfn: number, why: string): Gen<void> {
  yield* k.mem.fieldStep(`putback_lru_folio(${pfn})`, "w", () => {
    note(why);
    k.mem.flags[pfn] |= PG_LRU;
    k.mem.putPage(pfn);
  });
}

/** kswapd's balance_pgdat: one pass with GFP_KERNEL semantics, holding fs_reclaim for lockdep. */
export function* kswapd(k: Kernel): Gen<number> {
  const __f = enter(k, "kswapd");
  try {
    const t = k.current();
    if (k.era.fsReclaimMap && k.era.fsReclaimHeldInReclaim) k.lockdep.mapAcquire(t, FS_RECLAIM);
    t.memalloc++;
    const cands = yield* k.mem.fieldStep("balance_pgdat: scan the inactive LRU", "r", () => candidates(k));
    let freed = 0;
    if (cands.length) {
      const pfn = yield* choose("kswapd picks", [-1, ...cands]);
      if (pfn >= 0) freed += yield* shrink_folio_list(k, pfn, GFP_KERNEL, true);
    }
    freed += yield* shrink_slab(k, GFP_KERNEL);
    t.memalloc--;
    if (k.era.fsReclaimMap && k.era.fsReclaimHeldInReclaim) k.lockdep.mapRelease(t, FS_RECLAIM);
    return freed;
  } finally {
    leave(__f);
  }
}
