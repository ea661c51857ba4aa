// The OOM reaper (kernel-semantics §20). Model of mm/oom_kill.c (oom_reap_task,
// oom_reap_task_mm, __oom_reap_task_mm).
//
// 2018 (v4.16): mmap_read_trylock; if the mm has any subscriber whose ops lack
// MMU_INVALIDATE_DOES_NOT_BLOCK (mm_has_blockable_invalidate_notifiers) the reaper gives up on the
// whole mm: __oom_reap_task_mm sleeps a second and returns true ("done"), so oom_reap_task makes
// no further attempt and sets MMF_OOM_SKIP with the memory unreaped (no "unable to reap"
// message); otherwise it unmaps private/anon VMAs. We wrap that unmap in a
// (blocking-ABI) notifier range as v4.17's 27ae357fa82b did; v4.16 itself may have reaped
// without notifier calls for non-blocking subscribers, which would only add findings for KVM-like
// subscribers, never for the GPU designs (they all block).
// now: per VMA mmu_notifier_invalidate_range_start_nonblock; -EAGAIN skips that VMA and the
// attempt fails (retried); after the retries, MMF_OOM_SKIP.

import { finding, note } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, kcall, leave } from "./kernel.ts";
import { CAUSE_OOM_REAP, type Mm, VM_HUGETLB, VM_LOCKED, VM_PFNMAP, VM_SHARED } from "./mm.ts";
import { EAGAIN, MMU_INVALIDATE_DOES_NOT_BLOCK, mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_invalidate_range_start_nonblock, mmu_notifier_range_init } from "./mmu-notifier.ts";
import { tlb_finish_mmu, tlb_gather_mmu } from "./mmu-gather.ts";
import { unmap_page_range } from "./memory.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

/** One attempt (oom_reap_task_mm). Returns true if the whole mm was reaped. */
export function* oom_reap_task_mm(k: Kernel, mm: Mm): Gen<boolean> {
  return (yield* reapAttempt(k, mm)) === "reaped";
}

/** One attempt: reaped; failed, worth another attempt; or (v4.16, a blocking subscriber) given up. */
function* reapAttempt(k: Kernel, mm: Mm): Gen<"reaped" | "retry" | "give-up"> {
  const __f = enter(k, "oom_reap_task_mm");
  try {
    if (!(yield* mm.mmapLock.downReadTrylock(`mmap_read_trylock(${mm.name})`))) {
      note("mmap_lock contended: retry later");
      return "retry";
    }
    let ok: "reaped" | "retry" | "give-up" = "reaped";
    if (k.era.oomReaperSkipsBlockingMm && mm.notifiers.hlist.some((s) => !((s.ops.flags ?? 0) & MMU_INVALIDATE_DOES_NOT_BLOCK))) {
      note(`${mm.name} has a blocking notifier subscriber: skip the mm, and make no further attempt`);
      ok = "give-up";
    } else {
      mm.unstable = true;
      for (const vma of mm.vmas.slice()) {
        if (vma.flags & (VM_LOCKED | VM_HUGETLB | VM_PFNMAP)) continue;
        if (!(vma.isAnon() || !(vma.flags & VM_SHARED))) continue;
        const range = mmu_notifier_range_init(k, mm, vma.start, vma.end, "CLEAR");
        const tlb = tlb_gather_mmu(mm, k.gatherBatch);
        if (k.era.notifierBlockableArg) {
          if ((yield* mmu_notifier_invalidate_range_start_nonblock(k, range)) === EAGAIN) {
            note(`a subscriber returned -EAGAIN: skip VMA ${vma.start}..${vma.end}`);
            ok = "retry";
            continue;
          }
        } else yield* mmu_notifier_invalidate_range_start(k, range);
        yield* unmap_page_range(k, tlb, vma, vma.start, vma.end, CAUSE_OOM_REAP);
        yield* mmu_notifier_invalidate_range_end(k, range);
        yield* tlb_finish_mmu(k, tlb);
      }
    }
    yield* mm.mmapLock.upRead(`mmap_read_unlock(${mm.name})`);
    return ok;
  } finally {
    leave(__f);
  }
}

/**
 * oom_reap_task: up to `attempts` attempts (MAX_OOM_REAP_RETRIES is 10; scenarios use fewer).
 * Returns true if reaped. On giving up sets MMF_OOM_SKIP and reports `oom-reap-failed` (a progress
 * finding: the OOM killer must pick another victim while this one's memory stays allocated).
 */
export function* oom_reap_task(k: Kernel, mm: Mm, attempts = 2): Gen<boolean> {
  const __f = enter(k, "oom_reap_task");
  try {
    let made = 0;
    while (made < attempts) {
      made++;
      const r = yield* reapAttempt(k, mm);
      if (r === "reaped") return true;
      if (r === "give-up") break;
    }
    mm.oomSkip = true;
    finding("oom-reap-failed", `oom_reaper: ${mm.name} not reaped after ${made} attempt(s); MMF_OOM_SKIP set`, { mm: mm.name });
    return false;
  } finally {
    leave(__f);
  }
}
