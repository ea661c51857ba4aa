// struct mmu_gather (kernel-semantics §4): clear PTEs, batch the pages with the references the
// mappings held, flush the TLB, THEN free. Model of mm/mmu_gather.c (tlb_gather_mmu,
// tlb_flush_mmu, tlb_finish_mmu; in mm/memory.c at v4.16) and include/asm-generic/tlb.h
// (tlb_remove_page).
//
// A forced flush happens when the batch is full (`batch` pages, default unlimited) and after a
// dirty file PTE (zap_pte_range's force_flush). The kernel's first batch holds 8 pages
// (MMU_GATHER_BUNDLE); the next batch page comes from a GFP_NOWAIT allocation, and its failure
// forces a flush, and so does reaching MAX_GATHER_BATCH_COUNT batches (tlb_next_batch, v4.16:
// 10000 / MAX_GATHER_BATCH of them, about 9,700 pages), so an munmap of more than that frees
// pages before invalidate_range_end with no memory pressure at all. The default batch is
// unlimited; set `batch` to 1 or 2 in a scenario to reproduce either case on one or two pages.

import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import type { Mm } from "./mm.ts";
import { flushTlbRange } from "./pgtable.ts";
import { planted } from "./planted.ts";

export class MmuGather {
  /** Pages whose mapping reference is held until the flush. */
  readonly pages: number[] = [];
  /** Range touched so far (vpn), for the flush. */
  start = Infinity;
  end = -Infinity;
  constructor(
    readonly mm: Mm,
    readonly batch = Infinity,
  ) {}
}

/** tlb_gather_mmu. */
export function tlb_gather_mmu(mm: Mm, batch = Infinity): MmuGather {
  return new MmuGather(mm, batch);
}

/** tlb_remove_page, inside the zap step: queue pfn; true if the batch is full (flush now). */
export function tlbRemovePage(tlb: MmuGather, vpn: number, pfn: number): boolean {
  tlb.pages.push(pfn);
  if (vpn < tlb.start) tlb.start = vpn;
  if (vpn + 1 > tlb.end) tlb.end = vpn + 1;
  return tlb.pages.length >= tlb.batch;
}

/** Note a PTE cleared in the range without a page to free (zero page, swap entry). */
export function tlbTrackRange(tlb: MmuGather, vpn: number): void {
  if (vpn < tlb.start) tlb.start = vpn;
  if (vpn + 1 > tlb.end) tlb.end = vpn + 1;
}

/** tlb_flush_mmu: flush the TLB for the gathered range, then free the batched pages. One step:
 *  nothing can reach the pages between the flush and the free (their PTEs are gone). Split (field
 *  footprints, lib/kernel/README.md): the mm's per-page TLB arrays, the frames' counts, flags,
 *  hardware counts and free-list membership, and the free list are all recorded; the gather is
 *  this thread's own; a secondary-TLB callback trips (mmu-notifier.ts); freeing a frame runs no
 *  callback (page.ts freeFrame: findings and notes only). */
export function* tlb_flush_mmu(k: Kernel, tlb: MmuGather): Generator<Yieldable, void, unknown> {
  yield* k.mem.fieldStep(`tlb_flush_mmu(${tlb.mm.name}): flush TLB, free ${tlb.pages.length} page(s)`, "w", () => {
    if (tlb.end > tlb.start && !planted(k, "gather-no-tlb-flush")) flushTlbRange(k, tlb.mm, tlb.start, tlb.end);
    for (const pfn of tlb.pages) k.mem.putPage(pfn);
    tlb.pages.length = 0;
  });
}

/** tlb_finish_mmu. */
export function tlb_finish_mmu(k: Kernel, tlb: MmuGather): Generator<Yieldable, void, unknown> {
  return tlb_flush_mmu(k, tlb);
}
