// fork(): dup_mmap / copy_page_range with the COW rules of each era (kernel-semantics §7).
// Model of kernel/fork.c (dup_mmap) and mm/memory.c (copy_page_range, copy_pte_range,
// copy_present_pte(s), copy_present_page, vma_needs_copy; v4.16 copy_one_pte).
//
// 2018: every present anon page of a COW mapping is write-protected in the parent and shared
// with the child, whatever GUP references it has. The next write by either side COWs; the
// parent's reuse check (reuse_swap_page: mapcount == 1) ignores the GUP reference.
// now: a notifier range (PROTECTION_PAGE) on the parent, write_protect_seq odd while copying,
// and a page that is exclusive (an era without PG_ANON_EXCLUSIVE: any anon page, as v5.9-v5.18)
// and maybe pinned (only checked when MMF_HAS_PINNED) is copied for
// the child at once (copy_present_page, preallocated with GFP_HIGHUSER_MOVABLE outside the PTL);
// the parent keeps its writable PTE.
//
// The child mm must exist before the fork (create it in setup with mm_alloc): objects are
// created in setup so that every execution creates them in the same order.

import { note } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, kcall, leave } from "./kernel.ts";
import { mmap_write_unlock, vma_start_write, type Mm, PTE_DIRTY, PTE_MIGRATION, PTE_PRESENT, PTE_SPECIAL, PTE_SWAP, PTE_SWP_EXCLUSIVE, PTE_WRITE, PTE_YOUNG, Vma, VM_DONTFORK, VM_SHARED, VM_WIPEONFORK, VM_WRITE } from "./mm.ts";
import { GFP_HIGHUSER_MOVABLE, alloc_page } from "./gfp.ts";
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init, type MmuNotifierRange } from "./mmu-notifier.ts";
import { PG_ANON, PG_ANON_EXCLUSIVE, PG_LRU, PG_SWAPBACKED, newAnonExclusive } from "./page.ts";
import { addRmap, flushTlbRange, setPte } from "./pgtable.ts";
import { fieldTrip } from "./field-log.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

const DONE = 0, NEEDS_COPY = 1;

/** fork(): copy parent's address space into `child` (an empty mm from mm_alloc). Returns 0. */
export function* fork(k: Kernel, parent: Mm, child: Mm): Gen<number> {
  const __f = enter(k, "dup_mmap");
  try {
    if (child.vmas.length) throw new Error(`fork: the child mm ${child.name} must be empty (create it with mm_alloc in setup).`);
    yield* parent.mmapLock.downWrite(`mmap_write_lock(${parent.name})`);
    child.anonRoot = parent.anonRoot; // anon_vma_fork: the child's anon_vmas share the parent's root
    for (const vma of parent.vmas.slice()) {
      yield* vma_start_write(vma);
      if (vma.flags & VM_DONTFORK) continue;
      const cv = new Vma(child, vma.start, vma.end, vma.flags, vma.file, vma.pgoff);
      child.vmas.push(cv);
      if (vma.flags & VM_WIPEONFORK) continue;
      // vma_needs_copy: shared file mappings are faulted in by the child instead.
      if (vma.file && vma.flags & VM_SHARED) continue;
      yield* copy_page_range(k, parent, child, vma);
    }
    yield* mmap_write_unlock(parent);
    note(`${child.name} forked from ${parent.name}`);
    return 0;
  } finally {
    leave(__f);
  }
}

function* copy_page_range(k: Kernel, parent: Mm, child: Mm, vma: Vma): Gen<void> {
  const __f = enter(k, "copy_page_range");
  try {
    const cow = vma.isCow();
    const now = k.era.forkEarlyCopyPinned;
    let range: MmuNotifierRange | null = null;
    // Both eras fire start on the parent for a COW mapping (v4.16 mm/memory.c copy_page_range:
    // "if (is_cow) mmu_notifier_invalidate_range_start(src_mm, ...)"); only the event argument
    // is new (MMU_NOTIFY_PROTECTION_PAGE, v5.0+), and range_init drops it in the 2018 era.
    if (cow) {
      range = mmu_notifier_range_init(k, parent, vma.start, vma.end, "PROTECTION_PAGE");
      yield* mmu_notifier_invalidate_range_start(k, range);
    }
    if (cow && k.era.writeProtectSeq) yield* k.mem.fieldStep(`raw_write_seqcount_begin(${parent.name}->write_protect_seq)`, "w", () => void parent.writeProtectSeq++);
    const mem = k.mem;
    for (let vpn = vma.start; vpn < vma.end; vpn++) {
      let copyPfn = -1; // the frame the decision to copy saw
      const r = yield* mem.fieldStep(`copy_pte(${parent.name}:${vpn} -> ${child.name})`, "w", () => {
        const f = parent.pteFlags[vpn];
        const pfn = parent.ptePfn[vpn];
        if (f === 0) return DONE;
        if (f & PTE_SWAP) {
          fieldTrip(mem.fields); // kept from before swap was recorded (swap.ts): could be split now
          // copy_nonpresent_pte: the entry is shared now, in the parent too (pte_swp_clear_exclusive).
          if (f & PTE_SWP_EXCLUSIVE) parent.pteFlags[vpn] = f & ~PTE_SWP_EXCLUSIVE;
          setPte(child, vpn, pfn, f & ~PTE_SWP_EXCLUSIVE);
          if (k.swap) k.swap.count[pfn]++;
          return DONE;
        }
        if (f & PTE_MIGRATION) {
          // copy_nonpresent_pte (v4.16 copy_one_pte): the child gets the entry too (the page's
          // mappings come back through remove_migration_ptes' rmap walk); a writable or exclusive
          // entry in a COW mapping becomes readable, not exclusive, in both (v6.x keeps the
          // exclusivity of a page under migration in its entries: try_to_migrate_one).
          let nf = f;
          if (cow) {
            nf &= ~(PTE_WRITE | PTE_SWP_EXCLUSIVE);
            parent.pteFlags[vpn] = nf;
          }
          setPte(child, vpn, pfn, nf);
          return DONE;
        }
        if (!(f & PTE_PRESENT)) return DONE;
        if (f & PTE_SPECIAL) {
          setPte(child, vpn, pfn, f & ~PTE_YOUNG);
          return DONE;
        }
        const anon = (mem.flags[pfn] & PG_ANON) !== 0;
        // With PG_ANON_EXCLUSIVE (v5.19+), folio_try_dup_anon_rmap_pte fails: exclusive and maybe
        // pinned (only with MMF_HAS_PINNED). An era without it asks what copy_present_page asked
        // from v5.9 (v5.13+: page_needs_cow_for_dma): a COW mapping, MMF_HAS_PINNED,
        // page_maybe_dma_pinned. Some of those kernels also copied a pinned page-cache page of a
        // private file mapping; the model copies anon pages only, as later kernels do (fewer copies).
        const exclusive = k.era.cowReuse === "exclusive" ? (mem.flags[pfn] & PG_ANON_EXCLUSIVE) !== 0 : true;
        if (now && anon && cow && parent.hasPinned && exclusive && mem.maybeDmaPinned(pfn)) {
          copyPfn = pfn;
          return NEEDS_COPY;
        }
        let nf = f & ~PTE_YOUNG;
        if (cow) {
          parent.pteFlags[vpn] &= ~PTE_WRITE; // ptep_set_wrprotect
          nf &= ~PTE_WRITE;
        }
        if (vma.flags & VM_SHARED) nf &= ~PTE_DIRTY;
        if (anon) mem.flags[pfn] &= ~PG_ANON_EXCLUSIVE;
        addRmap(k, pfn);
        setPte(child, vpn, pfn, nf);
        return DONE;
      });
      if (r === NEEDS_COPY) {
        const neu = yield* alloc_page(k, GFP_HIGHUSER_MOVABLE, "folio_prealloc");
        if (neu < 0) {
          // The kernel fails the whole fork with -ENOMEM; the model leaves this PTE out of the
          // child and goes on (the child faults a fresh page there: errs towards a fork that
          // succeeds).
          note(`fork: no page for the copy of ${parent.name}:${vpn}; ${child.name} gets none`);
          continue;
        }
        const copied = yield* mem.fieldStep(`copy_present_page(${parent.name}:${vpn} -> new frame ${neu} for ${child.name})`, "w", () => {
          // copy_pte_range runs copy_present_pte again on the PTE as it is after
          // page_copy_prealloc (goto again): the allocation may have reclaimed, and reclaim or
          // migration may have replaced the page meanwhile.
          if (!(parent.pteFlags[vpn] & PTE_PRESENT) || parent.ptePfn[vpn] !== copyPfn) {
            mem.putPage(neu);
            return false;
          }
          const old = copyPfn;
          mem.copyFrame(neu, old);
          // The copy is the child's alone; PG_ANON_EXCLUSIVE only where the era has it (a 2018
          // kernel with early COW switched on, era(E18, { forkEarlyCopyPinned: true, pinTracking: true }),
          // does not).
          mem.flags[neu] |= PG_ANON | PG_SWAPBACKED | PG_LRU | newAnonExclusive(k.era);
          mem.anonMm[neu] = child.id;
          mem.index[neu] = vpn;
          addRmap(k, neu);
          mem.putPage(neu);
          setPte(child, vpn, neu, PTE_PRESENT | PTE_DIRTY | (vma.flags & VM_WRITE ? PTE_WRITE : 0));
          note(`fork: maybe-pinned frame ${old} stays with ${parent.name}; ${child.name} gets a copy in frame ${neu}`);
          return true;
        });
        // Again, on the fresh PTE. This ends: only reclaim or migration can change the parent's
        // PTE here (fork holds its mmap_lock for write), and they leave an entry that is copied
        // without an allocation.
        if (!copied) vpn--;
      }
    }
    if (cow && k.era.writeProtectSeq) yield* mem.fieldStep(`raw_write_seqcount_end(${parent.name}->write_protect_seq)`, "w", () => void parent.writeProtectSeq++);
    if (range) yield* mmu_notifier_invalidate_range_end(k, range);
    // The parent's TLB is flushed after the notifier range ends, as dup_mmap's flush_tlb_mm(oldmm)
    // runs after copy_page_range returned (v4.16 and v6.x; here per VMA, which only moves the
    // flush earlier for the VMAs before the last).
    if (cow) yield* mem.fieldStep(`flush_tlb_range(${parent.name}:${vma.start}..${vma.end})`, "w", () => flushTlbRange(k, parent, vma.start, vma.end));
  } finally {
    leave(__f);
  }
}
