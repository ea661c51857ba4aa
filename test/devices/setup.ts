// Scenario set-up for the device tests, without scheduling points (setup functions only).
// A stand-in for lib/kernel/populate.ts (not yet committed when these tests were written).
import type { Kernel } from "../../lib/kernel/kernel.ts";
import { mm_alloc, mmap_region, CAUSE_FAULT, PTE_DIRTY, PTE_PRESENT, PTE_WRITE, PTE_YOUNG, type Mm } from "../../lib/kernel/mm.ts";
import { PG_ANON, PG_ANON_EXCLUSIVE, PG_LRU, PG_SWAPBACKED } from "../../lib/kernel/page.ts";
import { addRmap, setPte } from "../../lib/kernel/pgtable.ts";

/** An mm with anonymous pages [0, n) faulted in for write. Returns the mm and the frames. */
export function anonProcess(k: Kernel, n: number, name = "proc"): { mm: Mm; pfns: number[] } {
  const mm = mm_alloc(k, Math.max(4, n), name);
  mmap_region(mm, 0, n);
  const mem = k.mem;
  const pfns: number[] = [];
  for (let vpn = 0; vpn < n; vpn++) {
    const pfn = mem.allocFrame();
    mem.flags[pfn] |= PG_ANON | PG_SWAPBACKED | PG_LRU | (k.era.cowReuse === "exclusive" ? PG_ANON_EXCLUSIVE : 0);
    mem.anonMm[pfn] = mm.id;
    mem.index[pfn] = vpn;
    addRmap(k, pfn);
    mem.putPage(pfn);
    setPte(mm, vpn, pfn, PTE_PRESENT | PTE_YOUNG | PTE_WRITE | PTE_DIRTY);
    mm.changeCause[vpn] = CAUSE_FAULT;
    pfns.push(pfn);
  }
  return { mm, pfns };
}

import type { MmuNotifier } from "../../lib/kernel/mmu-notifier.ts";
/** mmu_notifier_register's effect at setup time (the registration itself is not under test). */
export function registerAtSetup(mm: Mm, sub: MmuNotifier): void {
  sub.mm = mm;
  mm.notifiers.hlist.push(sub);
  mm.count++;
}

import type { MmuIntervalNotifier } from "../../lib/kernel/mmu-notifier.ts";
/** mmu_interval_notifier_insert's effect at setup time, with no invalidation running. (The first
 *  insert on an mm registers the subscriptions with mmap_lock held for write in the kernel; the
 *  model's insert does not take it, so inserting concurrently with munmap is not modelled here.) */
export function insertIntervalAtSetup(mm: Mm, sub: MmuIntervalNotifier): void {
  sub.mm = mm;
  sub.invalidateSeq = mm.notifiers.invalidateSeq - 1;
  mm.notifiers.itree.push(sub);
  mm.notifiers.hasItree = true; // as the first interval registration leaves it (has_itree)
  mm.count++;
}
