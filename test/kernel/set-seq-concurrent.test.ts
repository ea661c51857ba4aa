// set-seq-skipped with two invalidations of one interval subscription in flight at once. The
// check must belong to one call of the callback: "this invalidate returned true without calling
// mmu_interval_set_seq" (include/linux/mmu_notifier.h: it "must be called unconditionally from
// the invalidate callback"). A count per subscription, sampled before the callback and compared
// after it, lets the other invalidation's set_seq, run in between, hide the skip.
import { describe, expect, it } from "vitest";
import { check, claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, type Mm } from "../../lib/kernel/mm.ts";
import { KMutex } from "../../lib/kernel/mutex.ts";
import {
  MmuIntervalNotifier, mmu_interval_notifier_insert_at_setup, mmu_interval_set_seq, type MmuIntervalNotifierOps,
  mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init,
  type MmuNotifierRange,
} from "../../lib/kernel/mmu-notifier.ts";
import { populate } from "../../lib/kernel/populate.ts";
import type { Kernel } from "../../lib/kernel/kernel.ts";

/** A process with pages 0 and 1 populated and one interval subscription over both, whose
 *  callback `callback(k)` makes (set-up, no steps). */
function subscribed(callback: (k: Kernel) => MmuIntervalNotifierOps["invalidate"]) {
  const k = boot(ENOW);
  const mm = mm_alloc(k, 4, "p");
  mmap_region(mm, 0, 2);
  populate(k, mm, 0, 2);
  const sub = new MmuIntervalNotifier(0, 2, { name: "mirror", invalidate: callback(k) });
  mmu_interval_notifier_insert_at_setup(k, sub, mm);
  return { k, mm };
}

/** invalidate_range_start and _end of page `start` of mm. */
function* invalidatePage(k: Kernel, mm: Mm, start: number) {
  const r = mmu_notifier_range_init(k, mm, start, start + 1, "CLEAR");
  yield* mmu_notifier_invalidate_range_start(k, r);
  yield* mmu_notifier_invalidate_range_end(k, r);
}

/** The callback skips set_seq for the invalidation of page 0 only; page 1's calls it. */
function* skipForPage0(k: Kernel, lock: KMutex, sub: MmuIntervalNotifier, range: MmuNotifierRange, cur: number) {
  yield* lock.lock();
  if (range.start !== 0) yield* mmu_interval_set_seq(k, sub, cur);
  yield* lock.unlock();
  return true;
}

const twoInvalidations = model("two invalidations of one interval subscription, one skips set_seq", () => {
  const { k, mm } = subscribed((k) => {
    const lock = new KMutex(k, "drv->notifier_lock");
    return (s, r, cur) => skipForPage0(k, lock, s, r, cur);
  });
  return { threads: { A: () => invalidatePage(k, mm, 0), B: () => invalidatePage(k, mm, 1) } };
});

const SEARCHES = [{ strategy: "dfs" }, { strategy: "dpor" }, { strategy: "dpor", fields: true }, { strategy: "dpor", optimal: true }] as const;
const name = (s: (typeof SEARCHES)[number]) => JSON.stringify(s);

describe("set-seq-skipped with two invalidations in flight (one subscription)", () => {
  it("is reported in every execution: the skip happens in every one (DFS, DPOR, fields, optimal)", () => {
    for (const search of SEARCHES)
      claim({ title: `skip reported ${name(search)}`, model: twoInvalidations, predicate: (e) => e.has("set-seq-skipped"), expect: "Always", search });
  });

  it("names the invalidation that skipped, never the one that called set_seq", () => {
    for (const search of SEARCHES) {
      const r = check({
        title: `only page 0 ${name(search)}`, model: twoInvalidations, expect: "Never", search,
        predicate: (e) => e.findings.filter((f) => f.kind === "set-seq-skipped").length !== 1,
      });
      expect(r.pass, r.witness?.text).toBe(true);
    }
  });
});

// Nested in one task (reclaim from inside a callback can invalidate the same subscription again):
// set_seq counts for the innermost call only. Here the outer call (page 0) skips set_seq and, from
// inside its callback, invalidates page 1, whose call does set_seq.
function* nestedSkip(k: Kernel, sub: MmuIntervalNotifier, range: MmuNotifierRange, cur: number) {
  if (range.start === 0) yield* invalidatePage(k, range.mm, 1);
  else yield* mmu_interval_set_seq(k, sub, cur);
  return true;
}

const nested = model("an invalidation inside a callback of the same subscription", () => {
  const { k, mm } = subscribed((k) => (s, r, cur) => nestedSkip(k, s, r, cur));
  return { threads: { A: () => invalidatePage(k, mm, 0) } };
});

describe("set-seq-skipped with a nested invalidation in the same task", () => {
  it("the outer call's skip is reported, the inner call's set_seq does not count for it", () => {
    claim({ title: "outer skip reported", model: nested, predicate: (e) => e.findings.filter((f) => f.kind === "set-seq-skipped").length === 1, expect: "Always" });
  });
});
