// Setup-time notifier registration (mmu_notifier_register_at_setup,
// mmu_interval_notifier_insert_at_setup): the state the real registration leaves, so that a
// scenario's first invalidation reaches the subscriber without exploring the registration.
import { describe, expect, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, ERAS } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { madvise_dontneed } from "../../lib/kernel/madvise.ts";
import { MmuIntervalNotifier, MmuNotifier, mmu_interval_notifier_insert_at_setup, mmu_interval_read_begin, mmu_interval_read_retry, mmu_interval_set_seq, mmu_notifier_register_at_setup } from "../../lib/kernel/mmu-notifier.ts";

describe.each(ERAS)("setup-time registration ($name)", (era) => {
  it("a classic subscriber registered at setup sees the first invalidation", () => {
    const m = model("register at setup", () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      populate(k, mm, 0, 1);
      let calls = 0;
      mmu_notifier_register_at_setup(new MmuNotifier({ name: "obs", *invalidate_range_start() { calls++; return 0; } }), mm);
      return { threads: { T: () => madvise_dontneed(k, mm, 0, 1) }, final: () => ({ calls, count: mm.count }) };
    });
    claim({ title: "called once", model: m, predicate: (e) => e.final.calls === 1, expect: "Always" });
  });
});

describe("setup-time interval insert", () => {
  it("read_begin does not wait; an invalidation after it makes read_retry true", () => {
    const m = model("insert at setup", () => {
      const k = boot(ENOW);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      populate(k, mm, 0, 1);
      const sub = new MmuIntervalNotifier(0, 1, { name: "obs", *invalidate(s, _r, cur) { yield* mmu_interval_set_seq(k, s, cur); return true; } });
      mmu_interval_notifier_insert_at_setup(k, sub, mm);
      let retry = false;
      return {
        threads: {
          T: function* () {
            const seq = yield* mmu_interval_read_begin(k, sub);
            yield* madvise_dontneed(k, mm, 0, 1);
            retry = yield* mmu_interval_read_retry(k, sub, seq);
          },
        },
        final: () => retry,
      };
    });
    claim({ title: "retry", model: m, predicate: (e) => e.final === true, expect: "Always" });
  });
  it("does not exist in E18; double registration is refused", () => {
    const m = model("refusals", () => {
      const k = boot(E18);
      const mm = mm_alloc(k, 8);
      const errs: string[] = [];
      try { mmu_interval_notifier_insert_at_setup(k, new MmuIntervalNotifier(0, 1, { name: "x", *invalidate() { return true; } }), mm); } catch (e) { errs.push(String(e)); }
      const sub = new MmuNotifier({ name: "y" });
      mmu_notifier_register_at_setup(sub, mm);
      try { mmu_notifier_register_at_setup(sub, mm); } catch (e) { errs.push(String(e)); }
      return { threads: { T: function* () {} }, final: () => errs };
    });
    const r = claim({ title: "both refused", model: m, predicate: (e) => e.final.length === 2, expect: "Always" });
    expect(r.pass).toBe(true);
  });
});
