// mmu_interval_notifier_remove against invalidations in flight (mm/mmu_notifier.c,
// mmu_interval_notifier_remove and mn_itree_inv_end): a sub removed while an invalidation runs
// goes on the deferred list and leaves the interval tree at that invalidation's
// mn_itree_inv_end, before invalidate_seq moves; remove then waits for the seq to move. So
// once remove returns no invalidate callback of the sub is running, and none starts later.
import { describe, it } from "vitest";
import { claim, finding, model, SharedVar } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import {
  MmuIntervalNotifier, mmu_interval_notifier_insert_at_setup, mmu_interval_notifier_remove, mmu_interval_set_seq,
  mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init,
} from "../../lib/kernel/mmu-notifier.ts";

describe("mmu_interval_notifier_remove vs back-to-back invalidations", () => {
  it("no invalidate callback of the sub runs after remove returned (deferred removal at inv_end)", () => {
    const m = model("interval remove", () => {
      const k = boot(ENOW);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      populate(k, mm, 0, 1);
      const removed = new SharedVar("removed", false);
      const sub = new MmuIntervalNotifier(0, 1, {
        name: "obs",
        *invalidate(s, _r, cur) {
          if (yield* removed.read()) finding("callback-after-remove", "invalidate ran after mmu_interval_notifier_remove returned");
          yield* mmu_interval_set_seq(k, s, cur);
          if (yield* removed.read()) finding("callback-after-remove", "remove returned while invalidate ran");
          return true;
        },
      });
      mmu_interval_notifier_insert_at_setup(k, sub, mm);
      return {
        threads: {
          Inval: function* () {
            for (let i = 0; i < 2; i++) {
              const r = mmu_notifier_range_init(k, mm, 0, 1, "CLEAR");
              yield* mmu_notifier_invalidate_range_start(k, r);
              yield* mmu_notifier_invalidate_range_end(k, r);
            }
          },
          Remove: function* () {
            yield* mmu_interval_notifier_remove(k, sub);
            yield* removed.write(true);
          },
        },
      };
    });
    claim({ title: "callback after remove", model: m, predicate: (e) => e.has("callback-after-remove") || e.status !== "finished", expect: "Never" });
  });
});
