// mprotect (kernel-semantics §8). Model of mm/mprotect.c (mprotect_fixup, change_protection,
// change_pmd_range, change_pte_range). mmap_lock write. A VMA whose flags do not change is left
// alone (mprotect_fixup returns early). The notifier range (PROTECTION_VMA) is
// opened lazily at the first populated PMD (HPAGE_NR pages here) and covers from there to the
// end: an mprotect over an unpopulated range fires no notifier. Downgrades clear the PTE write
// bit (one step per PTE), end the range, then flush the TLB; upgrades open the same lazy
// range but change no PTE (the next write faults and do_wp_page makes it writable). VMAs are
// split at the range ends and never merged back (no effect on any oracle).

import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, leave } from "./kernel.ts";
import { mmap_write_unlock, vma_start_write, type Mm, PTE_MIGRATION, PTE_PRESENT, PTE_SWAP, PTE_WRITE, VM_WRITE, vmasInRange } from "./mm.ts";
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init, type MmuNotifierRange } from "./mmu-notifier.ts";
import { HPAGE_NR } from "./page.ts";
import { flushTlbRange } from "./pgtable.ts";
import { trace, traced } from "./tracepoints.ts";

export const PROT_READ = 1;
export const PROT_WRITE = 2;

/** mprotect(start, n, prot). Returns 0. */
export function* mprotect(k: Kernel, mm: Mm, start: number, n: number, prot: number): Generator<Yieldable, number, unknown> {
  const __f = enter(k, "mprotect");
  try {
    const end = start + n;
    const write = (prot & PROT_WRITE) !== 0;
    yield* mm.mmapLock.downWrite(`mmap_write_lock(${mm.name})`);
    for (const vma of vmasInRange(mm, start, end)) {
      // mprotect_fixup: unchanged flags return before change_protection, so no notifier fires.
      const flags = write ? vma.flags | VM_WRITE : vma.flags & ~VM_WRITE;
      if (flags === vma.flags) continue;
      yield* vma_start_write(vma);
      vma.flags = flags;
      const __k = enter(k, "change_protection");
      try {
        // change_pmd_range / change_pte_range: one step per PMD (the PTL is held across its PTEs).
        let range: MmuNotifierRange | null = null;
        for (let base = vma.start; base < vma.end; ) {
          const pmdEnd = Math.min(vma.end, base - (base % HPAGE_NR) + HPAGE_NR);
          const from = base;
          base = pmdEnd;
          if (range === null) {
            const populated = yield* k.mem.step(`change_pmd_range: pmd of ${mm.name}:${from} populated?`, "r", () => {
              const b = from - (from % HPAGE_NR);
              for (let i = b; i < b + HPAGE_NR && i < mm.npages; i++) if (mm.pteFlags[i] & (PTE_PRESENT | PTE_SWAP | PTE_MIGRATION)) return true;
              return false;
            });
            if (!populated) continue;
            range = mmu_notifier_range_init(k, mm, from, vma.end, "PROTECTION_VMA");
            yield* mmu_notifier_invalidate_range_start(k, range);
          }
          // Upgrade: the private mapping's new protection still lacks the PTE write bit (PAGE_COPY),
          // so the PTE is unchanged; the notifier range fires anyway (change_pmd_range).
          // A writable migration entry is made readable too (change_pte_range, v4.16 and v6.x: "A
          // protection check is difficult so just be safe and disable write"), or
          // remove_migration_ptes would restore a writable PTE. (The kernel does that on an upgrade
          // too, which only costs the next write a fault; the model leaves it out.)
          if (!write)
            yield* k.mem.step(`change_pte_range(${mm.name}:${from}..${pmdEnd}): write-protect`, "w", () => {
              for (let vpn = from; vpn < pmdEnd; vpn++) if (mm.pteFlags[vpn] & (PTE_PRESENT | PTE_MIGRATION)) mm.pteFlags[vpn] &= ~PTE_WRITE;
            });
        }
        // change_pmd_range ends the notifier range; change_protection_range flushes the TLB after
        // it returns (v4.16 and v6.x).
        if (range) {
          yield* mmu_notifier_invalidate_range_end(k, range);
          yield* k.mem.step(`flush_tlb_range(${mm.name}:${vma.start}..${vma.end})`, "w", () => flushTlbRange(k, mm, vma.start, vma.end));
        }
      } finally {
        leave(__k);
      }
    }
    yield* mmap_write_unlock(mm);
    // Oracle bookkeeping only: mprotect returned (the ro-write oracle listens). A split step: the
    // probe touches only Mm.roReturned, a recorded field, so with no probe it depends on nothing.
    yield* k.mem.fieldStep(`mprotect(${mm.name}:${start}..${end}) returns`, "w", () => {
      if (traced(k, "mprotect_returned")) trace(k, "mprotect_returned", { mm, start, end, write });
    });
    return 0;
  } finally {
    leave(__f);
  }
}
