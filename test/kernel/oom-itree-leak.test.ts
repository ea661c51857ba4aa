// The OOM reaper's non-blocking invalidation on an mm with both kinds of subscriber (issue 15
// item 14, "active_invalidate_ranges on the -EAGAIN path"). mm/mmu_notifier.c
// __mmu_notifier_invalidate_range_start runs the interval tree first (mn_itree_invalidate bumps
// active_invalidate_ranges and makes the seq odd), then the classic list. When a classic
// subscriber fails with -EAGAIN, mn_hlist_invalidate_range_start (since c2655835fd8c, v5.13) calls
// the other classic subscribers' range_end, but nothing calls mn_itree_inv_end, and
// __oom_reap_task_mm must not call mmu_notifier_invalidate_range_end after a failed start. The
// count stays raised: the seq stays odd, and mmu_interval_notifier_remove waits for it forever.
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW, era, type Era } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { EAGAIN, MmuIntervalNotifier, MmuNotifier, mmu_interval_notifier_remove } from "../../lib/kernel/mmu-notifier.ts";
import { oom_reap_task } from "../../lib/kernel/oom.ts";

const leak = (classicFails: boolean, e: Era = ENOW) =>
  model(`itree + hlist, OOM reap (${classicFails ? "classic start fails" : "classic start succeeds"})`, () => {
    const k = boot(e);
    const mm = mm_alloc(k, 8);
    mmap_region(mm, 0, 1);
    populate(k, mm, 0, 1);
    const interval = new MmuIntervalNotifier(0, 1, { name: "itree_sub", *invalidate() { return true; } });
    interval.mm = mm;
    interval.invalidateSeq = mm.notifiers.invalidateSeq - 1;
    mm.notifiers.itree.push(interval);
    mm.notifiers.hasItree = true;
    const classic = new MmuNotifier({ name: "hlist_sub", *invalidate_range_start(_s, r) { return !r.blockable && classicFails ? EAGAIN : 0; } });
    classic.mm = mm;
    mm.notifiers.hlist.push(classic);
    return {
      threads: {
        Exit: function* () {
          yield* oom_reap_task(k, mm, 1);
          yield* mmu_interval_notifier_remove(k, interval);
        },
      },
      final: () => ({ active: mm.notifiers.activeInvalidateRanges }),
    };
  });

describe("active_invalidate_ranges after a failed non-blocking start", () => {
  it("a classic subscriber's -EAGAIN leaves the interval tree invalidating: remove never returns", () => {
    claim({ title: "classic start fails: remove hangs", model: leak(true), predicate: (e) => e.status === "deadlock", expect: "Always" });
  });
  it("near miss: the classic start succeeds, the count returns to zero and remove returns", () => {
    claim({ title: "classic start succeeds", model: leak(false), predicate: (e) => e.status === "finished" && e.final.active === 0, expect: "Always" });
  });
  it("what-if kernel that ends the tree's part when the classic list fails: remove returns", () => {
    const fixed = era(ENOW, { hlistFailureEndsItree: true }, "now+end-itree");
    claim({ title: "fixed kernel", model: leak(true, fixed), predicate: (e) => e.status === "finished" && e.final.active === 0, expect: "Always" });
  });
});
