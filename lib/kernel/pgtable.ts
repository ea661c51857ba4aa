// PTE, TLB and rmap primitives used INSIDE one memory step (kernel-semantics §4): they never
// yield. Model of include/linux/pgtable.h (ptep_get_and_clear, ptep_clear_flush,
// ptep_set_wrprotect), mm/pgtable-generic.c (ptep_clear_flush), mm/rmap.c (page_add_anon_rmap,
// page_remove_rmap, folio_add_file_rmap) and the arch TLB flush.
//
// CPU TLB entries are per mm (the union of the CPUs the mm ran on) and survive a PTE change
// until a flush removes them. Each holds a HW_CPU_TLB reference on its frame, so freeing a frame
// before the flush that drops the entry is a uaf (the invariant of §4).

import type { Kernel } from "./kernel.ts";
import type { Mm } from "./mm.ts";
import { PTE_DIRTY, PTE_MIGRATION, PTE_PRESENT, PTE_SPECIAL, PTE_SWAP, PTE_WRITE, PTE_YOUNG } from "./mm.ts";
import { HW_CPU_TLB } from "./page.ts";
import { trace, traced } from "./tracepoints.ts";
import { secondaryTlbInvalidate } from "./mmu-notifier.ts";

/** Install a PTE (set_pte_at). */
export function setPte(mm: Mm, vpn: number, pfn: number, flags: number): void {
  mm.ptePfn[vpn] = pfn;
  mm.pteFlags[vpn] = flags;
}

/** pte_clear / ptep_get_and_clear (no flush): returns the old flags; the pfn stays readable in
 *  mm.ptePfn until overwritten only through the return of clearPte's caller. */
export function clearPte(mm: Mm, vpn: number): number {
  const f = mm.pteFlags[vpn];
  mm.pteFlags[vpn] = 0;
  mm.ptePfn[vpn] = -1;
  return f;
}

/** flush_tlb_range on the CPU TLB of mm, then the secondary TLBs that walk the CPU page tables
 *  (2018 ->invalidate_range, now arch_invalidate_secondary_tlbs), both under the PTL. */
export function flushTlbRange(k: Kernel, mm: Mm, start: number, end: number): void {
  for (let vpn = start; vpn < end; vpn++) {
    const pfn = mm.tlbPfn[vpn];
    if (pfn >= 0) {
      k.mem.hwPut(pfn, HW_CPU_TLB);
      mm.tlbPfn[vpn] = -1;
      mm.tlbWrite[vpn] = 0;
    }
  }
  secondaryTlbInvalidate(mm, start, end);
}

/** ptep_clear_flush(_notify): clear one PTE and flush it. Returns the old flags. */
export function ptepClearFlush(k: Kernel, mm: Mm, vpn: number): number {
  const f = clearPte(mm, vpn);
  flushTlbRange(k, mm, vpn, vpn + 1);
  return f;
}

/** Fill the CPU TLB of mm for vpn from its present PTE (a hardware walk). */
export function tlbFill(k: Kernel, mm: Mm, vpn: number): void {
  const pfn = mm.ptePfn[vpn];
  const old = mm.tlbPfn[vpn];
  if (old >= 0) k.mem.hwPut(old, HW_CPU_TLB);
  mm.tlbPfn[vpn] = pfn;
  mm.tlbWrite[vpn] = mm.pteFlags[vpn] & PTE_WRITE ? 1 : 0;
  mm.tlbGen[vpn] = k.mem.gen[pfn];
  k.mem.hwGet(pfn, HW_CPU_TLB);
}

/** Add a mapping of pfn (page_add_*_rmap + the mapping's reference). */
export function addRmap(k: Kernel, pfn: number): void {
  const mem = k.mem;
  if (mem.isZeroPage(pfn)) return;
  mem.mapcount[pfn]++;
  mem.ref[pfn]++;
  if (traced(k, "page_mapped")) trace(k, "page_mapped", pfn);
}

/**
 * Remove a mapping of pfn (page_remove_rmap). The mapping's reference is NOT dropped here:
 * zap paths hand it to the mmu_gather (freed after the TLB flush), try_to_unmap drops it itself.
 * The PTE's dirty and young bits are the caller's, as in the kernel: the zap moves them to a file
 * page only (zap_pte_range's `if (!PageAnon(page))`), try_to_unmap_one and try_to_migrate_one move
 * the dirty bit to any page, and wp_page_copy's page_remove_rmap of the old page moves neither.
 * The last mapping's removal is the page_unmapped tracepoint (dirty-after-return listens).
 */
export function removeRmap(k: Kernel, mm: Mm, vpn: number, pfn: number, oldFlags: number): void {
  const mem = k.mem;
  if (mem.isZeroPage(pfn) || oldFlags & PTE_SPECIAL) return;
  mem.mapcount[pfn]--;
  if (mem.mapcount[pfn] === 0 && traced(k, "page_unmapped")) trace(k, "page_unmapped", { mm, vpn, pfn });
}

/** rmap walk (rmap_walk_anon / rmap_walk_file): every (mm, vpn) whose PTE maps pfn. `migration`:
 *  migration's walks (try_to_migrate, remove_migration_ptes), which also find migration entries
 *  for pfn and look into a dying mm (the kernel's walk ignores mm_users). Call inside a memory step. */
export function rmapWalk(k: Kernel, pfn: number, migration = false): { mm: Mm; vpn: number }[] {
  const out: { mm: Mm; vpn: number }[] = [];
  for (const mm of k.mms) {
    // A dying mm keeps its migration entries until exit_mmap zaps them: remove_migration_ptes
    // restores them (the kernel's rmap walk does not look at mm_users).
    if (mm.users === 0 && !migration) continue;
    for (let vpn = 0; vpn < mm.npages; vpn++) {
      const f = mm.pteFlags[vpn];
      if (mm.ptePfn[vpn] !== pfn) continue;
      if (f & PTE_PRESENT || (migration && f & PTE_MIGRATION)) out.push({ mm, vpn });
    }
  }
  return out;
}

/** Which mms map pfn (cross-mm-write oracle). */
export function mappers(k: Kernel, pfn: number): Mm[] {
  const out: Mm[] = [];
  for (const mm of k.mms) {
    for (let vpn = 0; vpn < mm.npages; vpn++)
      if (mm.ptePfn[vpn] === pfn && mm.pteFlags[vpn] & PTE_PRESENT) {
        out.push(mm);
        break;
      }
  }
  return out;
}

export { PTE_DIRTY, PTE_MIGRATION, PTE_PRESENT, PTE_SPECIAL, PTE_SWAP, PTE_WRITE, PTE_YOUNG };
