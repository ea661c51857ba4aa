// Page faults (kernel-semantics §6, §7 write-fault side). Model of mm/memory.c:
// handle_mm_fault -> handle_pte_fault -> do_anonymous_page / do_fault (do_read_fault,
// do_cow_fault, do_shared_fault) / do_swap_page / do_wp_page (wp_page_reuse, wp_page_shared,
// wp_page_copy), and migration_entry_wait (mm/migrate.c).
//
// Caller holds mmap_lock for read. Handlers that allocate do so with the PTL dropped (the
// allocation may enter direct reclaim), then re-take the PTL and re-check pte_same in ONE memory
// step; on mismatch they back off and the fault returns (the access retries).
//
// wp_page_copy order, both eras (kernel-semantics §30): allocate, COPY THE OLD PAGE, then
// notifier start (one page, CLEAR), then the PTL step (pte_same? clear + flush the old PTE,
// install the new one, drop the old rmap and the mapping's reference), then notifier end, then
// put the fault's own reference on the old page. A device write to the old page after the copy
// lands only in the old page.
//
// Simplifications: page-cache reads allocate inside the step without reclaim (errs towards
// fewer reclaim entries); 2018 ->change_pte (set_pte_at_notify) is not called (KVM only);
// VM_FAULT_RETRY after dropping mmap_lock is not modelled (errs towards fewer interleavings of
// mmap_lock holders, never towards hiding an oracle violation inside the fault itself).

import { note } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, leave } from "./kernel.ts";
import type { Mm, Vma } from "./mm.ts";
import { CAUSE_COW, CAUSE_FAULT, CAUSE_NONE, PTE_DIRTY, PTE_MIGRATION, PTE_PRESENT, PTE_SPECIAL, PTE_SWAP, PTE_SWP_EXCLUSIVE, PTE_WRITE, PTE_YOUNG, VM_SHARED, VM_WRITE } from "./mm.ts";
import { GFP_HIGHUSER_MOVABLE, alloc_page } from "./gfp.ts";
import { findOrReadPage } from "./file.ts";
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from "./mmu-notifier.ts";
import { PG_ANON, PG_ANON_EXCLUSIVE, PG_DIRTY, PG_LRU, PG_PRIVATE, PG_SWAPBACKED, PG_SWAPCACHE, PG_WRITEBACK, newAnonExclusive } from "./page.ts";
import { folio_free_swap } from "./swap.ts";
import { addRmap, ptepClearFlush, removeRmap, setPte } from "./pgtable.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

/** vm_fault_t results (subset). */
export const VM_FAULT_OK = 0;
export const VM_FAULT_OOM = 1;
export const VM_FAULT_SIGSEGV = 2;
export const VM_FAULT_SIGBUS = 4;

export interface FaultFlags {
  /** FAULT_FLAG_WRITE. */
  readonly write: boolean;
  /** FAULT_FLAG_UNSHARE (now): break COW sharing for a read-only pin, keep the PTE read-only. */
  readonly unshare?: boolean;
}

/** handle_mm_fault. Caller holds mmap_lock (read). Returns VM_FAULT_*. */
export function* handle_mm_fault(k: Kernel, mm: Mm, vpn: number, ff: FaultFlags): Gen<number> {
  const __f = enter(k, "handle_mm_fault");
  try {
    const vma = mm.findVma(vpn);
    if (!vma) return VM_FAULT_SIGSEGV;
    if (ff.write && !(vma.flags & VM_WRITE)) return VM_FAULT_SIGSEGV;
    for (let round = 0; round < 4; round++) {
      const kind = yield* k.mem.fieldStep(`handle_pte_fault(${mm.name}:${vpn}${ff.write ? ", write" : ""})`, "r", () => {
        const f = mm.pteFlags[vpn];
        if (f & PTE_MIGRATION) return "migration";
        if (f & PTE_SWAP) return "swap";
        if (!(f & PTE_PRESENT)) return "none";
        if (ff.unshare) return (k.mem.flags[mm.ptePfn[vpn]] & (PG_ANON | PG_ANON_EXCLUSIVE)) === PG_ANON ? "wp" : "done";
        if (ff.write && !(f & PTE_WRITE)) return "wp";
        return "done";
      });
      let r = VM_FAULT_OK;
      if (kind === "done") return VM_FAULT_OK;
      if (kind === "migration") yield* migration_entry_wait(k, mm, vpn);
      else if (kind === "swap") r = yield* do_swap_page(k, mm, vma, vpn, ff);
      else if (kind === "none") r = vma.isAnon() ? yield* do_anonymous_page(k, mm, vma, vpn, ff) : yield* do_fault(k, mm, vma, vpn, ff);
      else r = yield* do_wp_page(k, mm, vma, vpn, ff);
      if (r !== VM_FAULT_OK) return r;
    }
    return VM_FAULT_OK;
  } finally {
    leave(__f);
  }
}

/** migration_entry_wait: sleep until the migration entry is replaced (migration done or undone). */
function* migration_entry_wait(k: Kernel, mm: Mm, vpn: number): Gen<void> {
  yield* k.mem.step(`migration_entry_wait(${mm.name}:${vpn})`, "w", () => undefined, () => !(mm.pteFlags[vpn] & PTE_MIGRATION));
}

/** Install a freshly allocated anon page at vpn if the PTE is still none (the pte_same re-check). */
function installNewAnon(k: Kernel, mm: Mm, vpn: number, pfn: number, writable: boolean, expectFlags: number, expectPfn: number): boolean {
  const mem = k.mem;
  if (mm.pteFlags[vpn] !== expectFlags || mm.ptePfn[vpn] !== expectPfn) {
    mem.putPage(pfn);
    note("pte changed: back off");
    return false;
  }
  mem.flags[pfn] |= PG_ANON | PG_SWAPBACKED | PG_LRU | newAnonExclusive(k.era);
  mem.anonMm[pfn] = mm.id;
  mem.index[pfn] = vpn;
  addRmap(k, pfn);
  mem.putPage(pfn); // the allocation's reference: the mapping holds it now
  setPte(mm, vpn, pfn, PTE_PRESENT | PTE_YOUNG | (writable ? PTE_WRITE | PTE_DIRTY : 0));
  return true;
}

/** do_anonymous_page: zero page for reads, a new zeroed page for writes. */
function* do_anonymous_page(k: Kernel, mm: Mm, vma: Vma, vpn: number, ff: FaultFlags): Gen<number> {
  const __f = enter(k, "do_anonymous_page");
  try {
    if (!ff.write) {
      yield* k.mem.fieldStep(`map zero page at ${mm.name}:${vpn}`, "w", () => {
        if (mm.pteFlags[vpn] !== 0) return;
        setPte(mm, vpn, 0, PTE_PRESENT | PTE_SPECIAL | PTE_YOUNG);
      });
      return VM_FAULT_OK;
    }
    const pfn = yield* alloc_page(k, GFP_HIGHUSER_MOVABLE, "alloc_zeroed_user_highpage");
    if (pfn < 0) return VM_FAULT_OOM;
    yield* k.mem.fieldStep(`set_pte_at(${mm.name}:${vpn} -> ${pfn})`, "w", () => {
      if (installNewAnon(k, mm, vpn, pfn, (vma.flags & VM_WRITE) !== 0, 0, -1)) {
        if (mm.changeCause[vpn] === CAUSE_NONE) mm.changeCause[vpn] = CAUSE_FAULT;
        note(`${mm.name}:${vpn} -> frame ${pfn}`);
      }
    });
    return VM_FAULT_OK;
  } finally {
    leave(__f);
  }
}

/** do_fault: file-backed none PTE. */
function* do_fault(k: Kernel, mm: Mm, vma: Vma, vpn: number, ff: FaultFlags): Gen<number> {
  const f = vma.file!;
  const idx = vma.fileIndex(vpn);
  if (ff.write && !(vma.flags & VM_SHARED)) {
    // do_cow_fault: private copy of the file page.
    const __k = enter(k, "do_cow_fault");
    try {
      const pfn = yield* alloc_page(k, GFP_HIGHUSER_MOVABLE, "alloc_page_vma");
      if (pfn < 0) return VM_FAULT_OOM;
      yield* k.mem.step(`copy file page ${f.name}[${idx}] and map ${mm.name}:${vpn} -> ${pfn}`, "w", () => {
        const src = findOrReadPage(k, f, idx);
        if (src < 0) return;
        k.mem.copyFrame(pfn, src);
        if (installNewAnon(k, mm, vpn, pfn, true, 0, -1)) if (mm.changeCause[vpn] === CAUSE_NONE) mm.changeCause[vpn] = CAUSE_FAULT;
      });
      return VM_FAULT_OK;
    } finally {
      leave(__k);
    }
  }
  if (ff.write) {
    // do_shared_fault: ->page_mkwrite, then map writable and dirty the page.
    const __k = enter(k, "do_shared_fault");
    try {
      const pfn = yield* k.mem.step(`filemap_fault(${f.name}[${idx}])`, "w", () => {
        const p = findOrReadPage(k, f, idx);
        if (p >= 0) k.mem.getPage(p);
        return p;
      });
      if (pfn < 0) return VM_FAULT_OOM;
      yield* page_mkwrite(k, pfn);
      // finish_fault, then fault_dirty_shared_page (set_page_dirty, unlock_page): with the page
      // still locked from ->page_mkwrite, so reclaim cannot release its buffers in between.
      yield* k.mem.step(`map ${mm.name}:${vpn} -> ${pfn} writable + fault_dirty_shared_page`, "w", () => {
        const mem = k.mem;
        if (mm.pteFlags[vpn] === 0) {
          addRmap(k, pfn);
          setPte(mm, vpn, pfn, PTE_PRESENT | PTE_WRITE | PTE_DIRTY | PTE_YOUNG);
          mem.setFlag(pfn, PG_DIRTY);
          if (mm.changeCause[vpn] === CAUSE_NONE) mm.changeCause[vpn] = CAUSE_FAULT;
        }
        mem.putPage(pfn);
      });
      yield* k.pageLock(pfn).unlock();
      return VM_FAULT_OK;
    } finally {
      leave(__k);
    }
  }
  const __f = enter(k, "do_read_fault");
  try {
    yield* k.mem.step(`filemap_fault + map ${mm.name}:${vpn} read-only`, "w", () => {
      if (mm.pteFlags[vpn] !== 0) return;
      const p = findOrReadPage(k, f, idx);
      if (p < 0) return;
      addRmap(k, p);
      setPte(mm, vpn, p, PTE_PRESENT | PTE_YOUNG);
      if (mm.changeCause[vpn] === CAUSE_NONE) mm.changeCause[vpn] = CAUSE_FAULT;
    });
    return VM_FAULT_OK;
  } finally {
    leave(__f);
  }
}

/**
 * do_page_mkwrite with ->page_mkwrite of a dirty-tracking filesystem (ext4_page_mkwrite): lock the
 * page and make sure it has buffers (block allocation). May sleep. Returns with the page LOCKED
 * (VM_FAULT_LOCKED: do_page_mkwrite locks it if the filesystem did not): the caller maps and
 * dirties it, then unlocks (fault_dirty_shared_page), in v4.16 and today.
 */
export function* page_mkwrite(k: Kernel, pfn: number): Gen<void> {
  const __f = enter(k, "page_mkwrite");
  try {
    yield* k.pageLock(pfn).lock();
    yield* k.mem.step(`block_page_mkwrite(${pfn}): attach buffers`, "w", () => {
      const f = k.mem.mapping[pfn] >= 0 ? k.files[k.mem.mapping[pfn]] : null;
      if (f?.dirtyTracked) k.mem.flags[pfn] |= PG_PRIVATE;
    });
  } finally {
    leave(__f);
  }
}

/** do_swap_page: bring the page back from the swap cache or swap. */
function* do_swap_page(k: Kernel, mm: Mm, vma: Vma, vpn: number, ff: FaultFlags): Gen<number> {
  const __f = enter(k, "do_swap_page");
  try {
    yield* k.mem.step(`swapin ${mm.name}:${vpn}`, "w", () => {
      const swap = k.swap!;
      const mem = k.mem;
      if (!(mm.pteFlags[vpn] & PTE_SWAP)) return;
      const swpExclusive = (mm.pteFlags[vpn] & PTE_SWP_EXCLUSIVE) !== 0;
      const slot = mm.ptePfn[vpn];
      let pfn = swap.slotPfn[slot];
      if (pfn < 0) {
        // A new frame into the swap cache: its reference is the cache's (add_to_swap_cache); the
        // fault takes its own below, as on a cache hit, so the page ends with cache + mapping.
        pfn = mem.allocFrame();
        if (pfn < 0) return;
        mem.flags[pfn] |= PG_ANON | PG_SWAPBACKED | PG_SWAPCACHE | PG_LRU;
        mem.contents[pfn] = swap.data[slot];
        mem.anonMm[pfn] = mm.id;
        mem.index[pfn] = vpn;
        swap.slotPfn[slot] = pfn;
        swap.pfnSlot[pfn] = slot;
      }
      mem.getPage(pfn);
      swap.count[slot]--;
      // Whether the page is mapped exclusive (and, for a write fault, writable).
      // 2018 (v4.16 do_swap_page -> reuse_swap_page on a write fault): map + swap count, before
      // this entry is dropped, is 1.
      // now (v6.x do_swap_page): the swap entry says so (PTE_SWP_EXCLUSIVE), or a write fault by the
      // last user frees the swap cache (should_try_to_free_swap: refcount 2, the cache's and ours;
      // folio_free_swap: no swap entry left) and then holds the only reference.
      // Simplified: the kernel locks the page here (folio_lock_or_retry) and that write fault
      // takes it out of the swap cache; this step takes no page lock, so the page stays in the
      // cache, exclusive, with one reference more (its slot's data stale, the PTE dirty: reclaim
      // writes it again). Freeing the cache here without the lock would let reclaim, which holds
      // it, free a mapped page. lib/kernel/README.md, Simplifications.
      const alone = k.era.cowReuse === "exclusive"
        ? swpExclusive || (ff.write && mem.ref[pfn] === 2 && swap.count[slot] === 0 && !(mem.flags[pfn] & PG_WRITEBACK))
        : mem.mapcount[pfn] === 0 && swap.count[slot] === 0;
      const writable = ff.write && alone && (vma.flags & VM_WRITE) !== 0;
      addRmap(k, pfn);
      mem.putPage(pfn);
      if (alone && k.era.cowReuse === "exclusive") mem.flags[pfn] |= PG_ANON_EXCLUSIVE;
      setPte(mm, vpn, pfn, PTE_PRESENT | PTE_YOUNG | (writable ? PTE_WRITE | PTE_DIRTY : 0));
      note(`${mm.name}:${vpn} -> frame ${pfn} (from swap slot ${slot})`);
    });
    return VM_FAULT_OK;
  } finally {
    leave(__f);
  }
}

/**
 * do_wp_page: write (or unshare) fault on a present read-only PTE. The kernel runs all of it up to
 * wp_page_copy under the PTE lock and takes a reference on the page only on its way out of that
 * section (wp_page_shared and wp_page_copy: `folio_get` before `pte_unmap_unlock`). The model's
 * section is two steps: the PTE read (which reuses an exclusive page, or takes the copy's
 * reference), and, when the page lock decides, the trylock, the decision and the unlock
 * (reuseLocked), which re-checks that the PTE still maps the page (pte_same). No step holds a
 * reference or the page lock where the kernel would not (test/kernel/wp-page-ref.test.ts).
 */
function* do_wp_page(k: Kernel, mm: Mm, vma: Vma, vpn: number, ff: FaultFlags): Gen<number> {
  const __f = enter(k, "do_wp_page");
  try {
    const mem = k.mem;
    const shared = (vma.flags & VM_SHARED) !== 0 && !!vma.file;
    const exclusiveEra = k.era.cowReuse !== "mapcount";
    let origFlags = 0;
    // Where the section under the PTE lock goes ("try": to the page lock). Set inside the step.
    let plan = "copy" as "shared" | "copy" | "reused" | "try";
    // The anon steps of do_wp_page and wp_page_copy are split (field footprints): they touch only
    // frames, PTEs, the TLB, swap and the oracles' records (a secondary-TLB callback trips); the
    // step that reads the page lock names it too (reuseLocked below).
    const snap = yield* mem.fieldStep(`do_wp_page: vm_normal_page(${mm.name}:${vpn})`, "w", () => {
      const f = mm.pteFlags[vpn];
      origFlags = f;
      const pfn = mm.ptePfn[vpn];
      if (!(f & PTE_PRESENT)) return -1;
      if (shared) {
        plan = "shared";
        mem.getPage(pfn);
        return pfn;
      }
      if (!mem.isZeroPage(pfn) && mem.flags[pfn] & PG_ANON) {
        // 2018: every anon page goes to the page lock (reuse_swap_page). Now: PageAnonExclusive
        // reuses at once; else wp_can_reuse_anon_folio's early checks (a refcount of more than the
        // mapping's, and the swap cache's, leaves little hope) before the folio lock.
        if (!exclusiveEra || mem.ref[pfn] <= 1 + (mem.flags[pfn] & PG_SWAPCACHE ? 1 : 0)) plan = "try";
        if (exclusiveEra && mem.flags[pfn] & PG_ANON_EXCLUSIVE) {
          plan = "reused";
          wp_page_reuse(mm, vpn, pfn, ff);
        }
        if (plan !== "copy") return pfn;
      }
      if (!mem.isZeroPage(pfn)) mem.getPage(pfn); // the copy's reference (folio_get)
      return pfn;
    });
    if (snap < 0) return VM_FAULT_OK;
    if (plan === "shared") {
      // wp_page_shared: ->page_mkwrite, then make the PTE writable and dirty the page.
      yield* page_mkwrite(k, snap);
      // finish_mkwrite_fault, then fault_dirty_shared_page, the page still locked (see page_mkwrite).
      yield* mem.step(`wp_page_shared: make ${mm.name}:${vpn} writable`, "w", () => {
        if (mm.ptePfn[vpn] === snap && mm.pteFlags[vpn] & PTE_PRESENT) {
          mm.pteFlags[vpn] |= PTE_WRITE | PTE_DIRTY | PTE_YOUNG;
          mem.setFlag(snap, PG_DIRTY);
        }
      });
      // fault_dirty_shared_page unlocks the page; wp_page_shared puts it after: a page-lock taker
      // (migration's refcount check, reclaim) can meet the fault's reference in between.
      yield* k.pageLock(snap).unlock();
      yield* mem.fieldStep(`put_page(${snap})`, "w", () => mem.putPage(snap));
      return VM_FAULT_OK;
    }
    if (plan === "try") plan = yield* reuseLocked(k, mm, vpn, snap, ff);
    // "try" again: the PTE changed, back to the access, as when the kernel's pte_same fails.
    if (plan !== "copy") return VM_FAULT_OK;
    return yield* wp_page_copy(k, mm, vma, vpn, snap, origFlags, ff);
  } finally {
    leave(__f);
  }
}

/** wp_page_reuse (call inside a step): the PTE writable and dirty; an unshare fault changes nothing. */
function wp_page_reuse(mm: Mm, vpn: number, pfn: number, ff: FaultFlags): void {
  if (!ff.unshare) mm.pteFlags[vpn] |= PTE_WRITE | PTE_DIRTY | PTE_YOUNG;
  note(`COW: frame ${pfn} reused`);
}

/**
 * The reuse decision under the page lock: "reused", "copy" (with the copy's reference taken), or
 * "try" when the PTE no longer maps the page. The kernel trylocks the page, decides and unlocks it
 * again, all under the PTE lock, so no task that needs that PTE lock ever sees the page locked by
 * this fault: one step here, on memory and the page lock. (A page-lock taker that needs no PTE
 * lock could, in the kernel, for those few instructions; here it cannot: lib/kernel/README.md.) A busy lock sends the fault to the copy (now), or
 * (2018) to `get_page`, `lock_page` with the PTE lock dropped, and under the PTE lock again
 * `pte_same`, `put_page`, the decision and `unlock_page` (one step more).
 */
function* reuseLocked(k: Kernel, mm: Mm, vpn: number, pfn: number, ff: FaultFlags): Gen<"reused" | "copy" | "try"> {
  const mem = k.mem;
  const pageLock = k.pageLock(pfn);
  const same = (): boolean => mm.ptePfn[vpn] === pfn && (mm.pteFlags[vpn] & PTE_PRESENT) !== 0;
  const exclusiveEra = k.era.cowReuse !== "mapcount";
  // Call inside a step, the page locked by this fault (in the kernel's order; here nobody can
  // tell): reuse or, with the copy's reference taken, copy.
  const decide = (): "reused" | "copy" => {
    let reuse: boolean;
    if (exclusiveEra) {
      // Under the folio lock folio_free_swap drops the cache's reference unless a swap entry still
      // names the slot (another process's swapped-out copy); only the mapping's reference alone
      // means nobody else.
      folio_free_swap(k, pfn);
      reuse = mem.ref[pfn] === 1;
      if (reuse) mem.flags[pfn] |= PG_ANON_EXCLUSIVE; // the kernel sets it after folio_unlock, under the PTL
    } else {
      // 2018 reuse_swap_page: total map + swap count == 1, GUP references ignored. The last user
      // of a swap-cache page takes it out of the cache (v4.16 mm/swapfile.c: count == 1 &&
      // PageSwapCache && !PageWriteback -> delete_from_swap_cache, SetPageDirty): the slot's old
      // data must not come back once the page is written.
      const slot = k.swap ? k.swap.pfnSlot[pfn] : -1;
      const count = mem.mapcount[pfn] + (slot >= 0 ? k.swap!.count[slot] : 0);
      reuse = count === 1;
      if (reuse) folio_free_swap(k, pfn);
    }
    if (!reuse) {
      mem.getPage(pfn); // the copy's reference, still under the PTE lock
      return "copy";
    }
    wp_page_reuse(mm, vpn, pfn, ff);
    return "reused";
  };
  // The page lock is looked up (and made on first use) outside the steps: creating it inside
  // would tie object creation order to the order of split steps. The step names the lock in its
  // footprint (it reads whether the lock is free): when the lock was read inside a split memory
  // step without it, DPOR saw no dependency on lock_page and lost the copy a locked page forces
  // (test/kernel/field-foot.test.ts, folio_mkclean beside a store).
  const label = exclusiveEra ? `wp_can_reuse_anon_folio(${pfn}): folio_trylock, checks, folio_unlock` : `trylock_page(${pfn}), reuse_swap_page, unlock_page`;
  const r = yield* pageLock.underPtl(label, mem, "r", (): "reused" | "copy" | "try" | "sleep" => {
    if (!same()) return "try";
    if (!pageLock.isLocked()) return decide();
    mem.getPage(pfn); // now: the copy's reference; 2018: get_page before sleeping on the lock
    return exclusiveEra ? "copy" : "sleep";
  });
  if (r !== "sleep") return r;
  yield* pageLock.lock();
  return yield* pageLock.underPtl(`pte_same, put_page, reuse_swap_page(${pfn}), unlock_page`, mem, "w", (): "reused" | "copy" | "try" => {
    const r = same() ? (mem.putPage(pfn), decide()) : "try"; // put_page while the PTE's reference keeps it
    pageLock.release();
    if (r === "try") mem.putPage(pfn); // the PTE changed: put_page after unlock_page
    return r;
  });
}

/** wp_page_copy (mm/memory.c): copy, notifier start, swap the PTE, notifier end, put the old page. */
function* wp_page_copy(k: Kernel, mm: Mm, vma: Vma, vpn: number, old: number, origFlags: number, ff: FaultFlags): Gen<number> {
  const __f = enter(k, "wp_page_copy");
  try {
    const mem = k.mem;
    const neu = yield* alloc_page(k, GFP_HIGHUSER_MOVABLE, "alloc_page_vma");
    if (neu < 0) {
      yield* mem.fieldStep("put old page", "w", () => mem.putPage(old));
      return VM_FAULT_OOM;
    }
    // cow_user_page: the copy happens BEFORE the notifier start (both eras).
    yield* mem.fieldStep(`cow_user_page(${neu} <- ${old})`, "w", () => mem.copyFrame(neu, old));
    const range = mmu_notifier_range_init(k, mm, vpn, vpn + 1, "CLEAR");
    yield* mmu_notifier_invalidate_range_start(k, range);
    yield* mem.fieldStep(`ptep_clear_flush_notify + set_pte_at(${mm.name}:${vpn}: ${old} -> ${neu})`, "w", () => {
      if (mm.ptePfn[vpn] !== old || mm.pteFlags[vpn] !== origFlags) {
        mem.putPage(neu);
        note("pte changed: back off");
        return;
      }
      const was = ptepClearFlush(k, mm, vpn);
      mem.flags[neu] |= PG_ANON | PG_SWAPBACKED | PG_LRU | newAnonExclusive(k.era);
      mem.anonMm[neu] = mm.id;
      mem.index[neu] = vpn;
      addRmap(k, neu);
      mem.putPage(neu);
      setPte(mm, vpn, neu, PTE_PRESENT | PTE_YOUNG | (ff.unshare ? 0 : PTE_WRITE | PTE_DIRTY));
      removeRmap(k, mm, vpn, old, was);
      if (old !== 0) mem.putPage(old); // the old mapping's reference
      if (old !== 0) mm.changeCause[vpn] = CAUSE_COW; // a copy of the zero page is just a fault
      else if (mm.changeCause[vpn] === CAUSE_NONE) mm.changeCause[vpn] = CAUSE_FAULT;
      note(`COW: ${mm.name}:${vpn} now frame ${neu}, was ${old}`);
    });
    yield* mmu_notifier_invalidate_range_end(k, range);
    yield* mem.fieldStep(`put_page(${old})`, "w", () => mem.putPage(old));
    return VM_FAULT_OK;
  } finally {
    leave(__f);
  }
}
