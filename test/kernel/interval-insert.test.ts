// mmu_interval_notifier_insert as mm/mmu_notifier.c does it: the mm's first interval
// subscription registers through mmu_notifier_register, i.e. under mmap_lock for write, so it
// never lands inside an munmap; and a sub inserted while invalidations are in flight gets an odd
// seq, so its first read_begin waits for them (found by the lib/kernel fidelity review).
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";

import { mmap_read_lock, mmap_read_unlock } from "../../lib/kernel/mm.ts";
import { Completion } from "../../lib/explorer/index.ts";
import {
  MmuIntervalNotifier, MmuNotifier, mmu_interval_notifier_insert, mmu_interval_set_seq,
  mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init, mmu_notifier_register_at_setup,
} from "../../lib/kernel/mmu-notifier.ts";

describe("mmu_interval_notifier_insert", () => {
  it("the first insert on an mm takes mmap_lock for write (it waits for a reader)", () => {
    // H holds mmap_lock for read until the insert has completed. If the insert takes mmap_lock
    // for write, schedules where H locks first deadlock; without it, none could.
    const m = model("insert vs a reader", () => {
      const k = boot(ENOW);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      const sub = new MmuIntervalNotifier(0, 1, { name: "mirror", *invalidate(s, _r, cur) { yield* mmu_interval_set_seq(k, s, cur); return true; } });
      const done = new Completion("inserted");
      return {
        threads: {
          H: function* () { yield* mmap_read_lock(mm); yield* done.wait(); yield* mmap_read_unlock(mm); },
          Ins: function* () { yield* mmu_interval_notifier_insert(k, sub, mm); yield* done.complete(); },
        },
      };
    });
    claim({ title: "the first insert waits for mmap_lock", model: m, predicate: (e) => e.has("deadlock"), expect: "Sometimes" });
  });

  it("inserted while a classic subscriber is being invalidated: the new sub takes the odd seq, so read_begin waits", () => {
    const m = model("insert during classic invalidation", () => {
      const k = boot(ENOW);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 2);
      mmu_notifier_register_at_setup(new MmuNotifier({ name: "classic", *invalidate_range_start() { return 0; } }), mm);
      const first = new MmuIntervalNotifier(1, 2, { name: "other", *invalidate(s, _r, cur) { yield* mmu_interval_set_seq(k, s, cur); return true; } });
      const sub = new MmuIntervalNotifier(0, 1, { name: "mirror", *invalidate(s, _r, cur) { yield* mmu_interval_set_seq(k, s, cur); return true; } });
      let odd = false;
      return {
        threads: {
          T: function* () {
            yield* mmu_interval_notifier_insert(k, first, mm); // has_itree from here on
            const r = mmu_notifier_range_init(k, mm, 0, 1, "CLEAR");
            yield* mmu_notifier_invalidate_range_start(k, r); // no interval overlaps [0,1) yet
            yield* mmu_interval_notifier_insert(k, sub, mm);
            // read_begin waits while the sub's seq equals the mm's (odd) seq.
            odd = (sub.invalidateSeq & 1) === 1 && sub.invalidateSeq === mm.notifiers.invalidateSeq;
            yield* mmu_notifier_invalidate_range_end(k, r);
          },
        },
        final: () => ({ odd }),
      };
    });
    claim({ title: "odd seq", model: m, predicate: (e) => e.final.odd, expect: "Always" });
  });
});
