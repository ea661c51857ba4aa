// madvise(MADV_DONTNEED) (kernel-semantics §10). Model of mm/madvise.c
// (madvise_dontneed_single_vma, can_madv_lru_vma) and mm/memory.c zap_page_range(_single).
// mmap_lock READ (so GUP and faults run concurrently with it), one notifier range (CLEAR), zap.
// Anonymous pages lose their PTE and the next access faults in a NEW zero-filled page; a pinned
// page survives (its reference) but is no longer what the CPU sees.

import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, kcall, leave } from "./kernel.ts";
import { CAUSE_DONTNEED, type Mm, VM_HUGETLB, VM_LOCKED, VM_PFNMAP } from "./mm.ts";
import { zap_page_range } from "./memory.ts";
import { EINVAL } from "./gup.ts";

/** madvise(start, n, MADV_DONTNEED). Returns 0 or -EINVAL. */
export function* madvise_dontneed(k: Kernel, mm: Mm, start: number, n: number): Generator<Yieldable, number, unknown> {
  const __f = enter(k, "madvise_dontneed");
  try {
    const end = start + n;
    yield* mm.mmapLock.downRead(`mmap_read_lock(${mm.name})`);
    const vmas = mm.vmas.filter((v) => v.start < end && start < v.end);
    let r = 0;
    if (vmas.some((v) => v.flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB))) r = EINVAL;
    else yield* zap_page_range(k, mm, vmas, start, end, CAUSE_DONTNEED);
    yield* mm.mmapLock.upRead(`mmap_read_unlock(${mm.name})`);
    return r;
  } finally {
    leave(__f);
  }
}
