// Zapping page ranges (kernel-semantics §9, §10). Model of mm/memory.c: unmap_page_range /
// zap_pte_range (zap_present_folio_ptes), unmap_vmas, zap_page_range(_single).
//
// One memory step per page-table page (HPAGE_NR PTEs): zap_pte_range takes the PTL once and
// clears every PTE of the PMD under it (clear, move the PTE dirty bit to the page for file
// pages, drop the rmap, hand the mapping's reference to the mmu_gather), breaking out only when
// the gather is full (then it flushes and frees, and continues). Nothing can run in between
// under the PTL, so one step per PMD is the kernel's own atomicity, not a simplification.
// Pages held by GUP/pins are not freed: the PTE goes, the extra reference keeps the page.

import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, kcall, leave } from "./kernel.ts";
import type { Mm, Vma } from "./mm.ts";
import { PTE_DIRTY, PTE_MIGRATION, PTE_PRESENT, PTE_SPECIAL, PTE_SWAP, PTE_YOUNG } from "./mm.ts";
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init, type MmuNotifierEvent } from "./mmu-notifier.ts";
import { type MmuGather, tlb_finish_mmu, tlb_flush_mmu, tlb_gather_mmu, tlbRemovePage, tlbTrackRange } from "./mmu-gather.ts";
import { HPAGE_NR, PG_ANON, PG_DIRTY, PG_REFERENCED } from "./page.ts";
import { clearPte, removeRmap } from "./pgtable.ts";
import { releaseSlotIfUnused } from "./swap.ts";
import { fieldTrip } from "./field-log.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

/** zap_pte_range over [start, end) of one VMA. `cause` tags the divergence oracle. */
export function* unmap_page_range(k: Kernel, tlb: MmuGather, vma: Vma, start: number, end: number, cause: number): Gen<void> {
  const mm = vma.mm;
  const s = Math.max(start, vma.start), e = Math.min(end, vma.end);
  let vpn = s;
  while (vpn < e) {
    const pmdEnd = Math.min(e, vpn - (vpn % HPAGE_NR) + HPAGE_NR);
    const from = vpn;
    let full = false;
    // Split (field footprints, lib/kernel/README.md): PTEs, change causes, the frames' map counts
    // and flags, the per-page invalidation marks are recorded, and the gather is this thread's
    // own; the VMA bounds are read above, under mmap_lock. Zapping a swap entry trips (from before
    // swap was recorded, swap.ts: it could be split now).
    vpn = yield* k.mem.fieldStep(`zap_pte_range(${mm.name}:${from}..${pmdEnd})`, "w", () => {
      let v = from;
      while (v < pmdEnd && !full) full = zapOne(k, tlb, mm, v++, cause);
      return v;
    });
    if (full) yield* tlb_flush_mmu(k, tlb);
  }
}

/** One PTE of zap_pte_range, inside a step. Returns true if the gather must flush now. */
function zapOne(k: Kernel, tlb: MmuGather, mm: Mm, vpn: number, cause: number): boolean {
  const f = mm.pteFlags[vpn];
  if (f === 0) return false;
  const pfn = mm.ptePfn[vpn];
  mm.changeCause[vpn] = cause;
  if (f & PTE_SWAP) {
    fieldTrip(k.mem.fields);
    clearPte(mm, vpn);
    // free_swap_and_cache: the entry's count goes; the last one frees the slot unless a page is
    // in the swap cache for it. That page the kernel then tries to drop (trylock_page, and only
    // if unmapped and not under writeback); the model never does, as if the trylock always
    // failed, which the kernel allows: the page stays cached until reclaim drops it and frees
    // the slot (deleteFromSwapCache).
    if (k.swap) {
      k.swap.count[pfn]--;
      releaseSlotIfUnused(k.swap, pfn);
    }
    return false;
  }
  if (f & PTE_MIGRATION) {
    clearPte(mm, vpn);
    return false;
  }
  clearPte(mm, vpn);
  tlbTrackRange(tlb, vpn);
  if (f & PTE_SPECIAL || !(f & PTE_PRESENT)) return false;
  removeRmap(k, mm, vpn, pfn, f);
  // zap_pte_range: `if (!PageAnon(page))` a dirty PTE dirties the page and a young one marks it
  // accessed (v4.16; zap_present_folio_ptes today); an anonymous page keeps its flags.
  const file = !(k.mem.flags[pfn] & PG_ANON);
  const dirtyFile = file && (f & PTE_DIRTY) !== 0;
  if (dirtyFile) k.mem.setFlag(pfn, PG_DIRTY);
  if (file && f & PTE_YOUNG) k.mem.setFlag(pfn, PG_REFERENCED);
  // A dirty file PTE forces the flush before zap_pte_range returns (v4.16 force_flush; v6.3+
  // through tlb_delay_rmap), so the gathered pages go before the notifier range ends.
  return tlbRemovePage(tlb, vpn, pfn) || dirtyFile;
}

/** unmap_vmas: one notifier range (event UNMAP) around zapping every VMA in [start, end). */
export function* unmap_vmas(k: Kernel, tlb: MmuGather, mm: Mm, vmas: readonly Vma[], start: number, end: number, cause: number, event: MmuNotifierEvent = "UNMAP"): Gen<void> {
  const __f = enter(k, "unmap_vmas");
  try {
    const range = mmu_notifier_range_init(k, mm, start, end, event);
    yield* mmu_notifier_invalidate_range_start(k, range);
    for (const vma of vmas) yield* unmap_page_range(k, tlb, vma, start, end, cause);
    yield* mmu_notifier_invalidate_range_end(k, range);
  } finally {
    leave(__f);
  }
}

/** zap_page_range(_single): gather, notifier range (CLEAR), zap, end, flush + free. */
export function* zap_page_range(k: Kernel, mm: Mm, vmas: readonly Vma[], start: number, end: number, cause: number): Gen<void> {
  const __f = enter(k, "zap_page_range");
  try {
    const tlb = tlb_gather_mmu(mm, k.gatherBatch);
    yield* unmap_vmas(k, tlb, mm, vmas, start, end, cause, "CLEAR");
    yield* tlb_finish_mmu(k, tlb);
  } finally {
    leave(__f);
  }
}
