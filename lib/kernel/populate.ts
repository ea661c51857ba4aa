// Scenario set-up without scheduling points (call in a model's setup function only): the
// state mm_populate / MAP_POPULATE would leave, built directly so that models start from it
// without exploring the faults that built it.

import type { Kernel } from "./kernel.ts";
import type { Mm } from "./mm.ts";
import { CAUSE_FAULT, CAUSE_NONE, PTE_DIRTY, PTE_PRESENT, PTE_WRITE, PTE_YOUNG, VM_SHARED, VM_WRITE } from "./mm.ts";
import { findOrReadPage } from "./file.ts";
import { PG_ANON, PG_ANON_EXCLUSIVE, PG_DIRTY, PG_LRU, PG_PRIVATE, PG_SWAPBACKED, newAnonExclusive } from "./page.ts";
import { addRmap, setPte } from "./pgtable.ts";

/** Fault in [start, start+n) for write (anon: new pages; shared file: page cache, dirty, with buffers). */
export function populate(k: Kernel, mm: Mm, start: number, n: number): number[] {
  const out: number[] = [];
  const mem = k.mem;
  for (let vpn = start; vpn < start + n; vpn++) {
    const vma = mm.findVma(vpn);
    if (!vma) throw new Error(`populate: ${mm.name}:${vpn} has no VMA; call mmap_region first.`);
    const writable = (vma.flags & VM_WRITE) !== 0;
    let pfn: number;
    if (vma.file && vma.flags & VM_SHARED) {
      pfn = findOrReadPage(k, vma.file, vma.fileIndex(vpn));
      if (writable) mem.flags[pfn] |= PG_DIRTY | (vma.file.dirtyTracked ? PG_PRIVATE : 0);
      addRmap(k, pfn);
    } else {
      pfn = mem.allocFrame();
      if (pfn < 0) throw new Error("populate: out of frames; boot with more frames.");
      mem.flags[pfn] |= PG_ANON | PG_SWAPBACKED | PG_LRU | newAnonExclusive(k.era);
      mem.anonMm[pfn] = mm.id;
      mem.index[pfn] = vpn;
      addRmap(k, pfn);
      mem.putPage(pfn);
    }
    setPte(mm, vpn, pfn, PTE_PRESENT | PTE_YOUNG | (writable ? PTE_WRITE | PTE_DIRTY : 0));
    if (mm.changeCause[vpn] === CAUSE_NONE) mm.changeCause[vpn] = CAUSE_FAULT;
    out.push(pfn);
  }
  return out;
}
