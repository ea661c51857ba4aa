// munmap, exit_mmap and mmput (kernel-semantics §9). Model of mm/mmap.c / mm/vma.c
// (do_vmi_munmap, vms_complete_munmap_vmas, unmap_region; v4.16 do_munmap), mm/memory.c
// (unmap_vmas), kernel/fork.c (mmput) and mm/mmap.c exit_mmap.
//
// munmap: mmap_lock write; detach the VMAs; (now: downgrade to read); unmap_region = gather,
// notifier range (UNMAP) over the span, zap, range end, free_pgtables, tlb_finish_mmu (flush,
// then free the pages); unlock. Pages are freed after range_end unless the gather filled up.
// exit_mmap: mmu_notifier_release first (interval subs get a RELEASE invalidate, classic subs
// ->release), only then unmap and free everything.

import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, leave } from "./kernel.ts";
import { CAUSE_MUNMAP, mmap_write_downgrade, mmap_write_unlock, type Mm, vma_start_write, vmasInRange } from "./mm.ts";
import { mmu_notifier_release } from "./mmu-notifier.ts";
import { tlb_finish_mmu, tlb_gather_mmu } from "./mmu-gather.ts";
import { unmap_vmas } from "./memory.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

/** munmap(start, n) by the process owning mm. Returns 0. */
export function* munmap(k: Kernel, mm: Mm, start: number, n: number): Gen<number> {
  const __f = enter(k, "do_munmap");
  try {
    const end = start + n;
    yield* mm.mmapLock.downWrite(`mmap_write_lock(${mm.name})`);
    const vmas = vmasInRange(mm, start, end);
    for (const v of vmas) yield* vma_start_write(v);
    // Detach: the VMAs leave the tree now; faults in the range see no VMA (SIGSEGV).
    for (const v of vmas) mm.vmas.splice(mm.vmas.indexOf(v), 1);
    const downgraded = k.era.munmapDowngrade;
    if (downgraded) yield* mmap_write_downgrade(mm);
    const __k = enter(k, "unmap_region");
    try {
      const tlb = tlb_gather_mmu(mm, k.gatherBatch);
      yield* unmap_vmas(k, tlb, mm, vmas, start, end, CAUSE_MUNMAP, "UNMAP");
      // free_pgtables: page-table pages are not modelled.
      yield* tlb_finish_mmu(k, tlb);
    } finally {
      leave(__k);
    }
    if (downgraded) yield* mm.mmapLock.upRead(`mmap_read_unlock(${mm.name})`);
    else yield* mmap_write_unlock(mm);
    return 0;
  } finally {
    leave(__f);
  }
}

/** exit_mmap: the last mm_users reference is gone. */
export function* exit_mmap(k: Kernel, mm: Mm): Gen<void> {
  const __f = enter(k, "exit_mmap");
  try {
    yield* mmu_notifier_release(k, mm);
    yield* mm.mmapLock.downWrite(`mmap_write_lock(${mm.name})`);
    const vmas = mm.vmas.slice();
    for (const v of vmas) yield* vma_start_write(v);
    mm.oomSkip = true;
    const tlb = tlb_gather_mmu(mm, k.gatherBatch);
    yield* unmap_vmas(k, tlb, mm, vmas, 0, mm.npages, CAUSE_MUNMAP, "UNMAP");
    yield* tlb_finish_mmu(k, tlb);
    mm.vmas.length = 0;
    yield* mmap_write_unlock(mm);
  } finally {
    leave(__f);
  }
}

/** mmput: drop an mm_users reference; the last one runs exit_mmap. */
export function* mmput(k: Kernel, mm: Mm): Gen<void> {
  const __f = enter(k, "mmput");
  try {
    const last = yield* mm.notifiers.step(`mmput(${mm.name})`, "w", () => --mm.users === 0);
    if (last) yield* exit_mmap(k, mm);
  } finally {
    leave(__f);
  }
}
