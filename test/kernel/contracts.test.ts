// Contracts not covered by the scenario tests: workqueue cancel, GUP-fast fallback and fork,
// notifier unregister, hmm_range_fault errors, contents bits.
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, ERAS } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { CPU_WRITE_ID } from "../../lib/kernel/page.ts";
import { alloc_workqueue, cancel_work_sync, init_work, queue_work } from "../../lib/kernel/workqueue.ts";
import { FOLL_WRITE, get_user_pages_fast, pin_user_pages_fast, put_page, unpin_user_page } from "../../lib/kernel/gup.ts";
import { fork } from "../../lib/kernel/fork.ts";
import { user_write } from "../../lib/kernel/user.ts";
import { MmuNotifier, MmuIntervalNotifier, mmu_interval_notifier_attach, mmu_interval_read_begin, mmu_notifier_register, mmu_notifier_unregister } from "../../lib/kernel/mmu-notifier.ts";
import { munmap } from "../../lib/kernel/munmap.ts";
import { EFAULT } from "../../lib/kernel/gup.ts";
import { hmm_range_fault } from "../../lib/kernel/hmm.ts";

describe.each(ERAS)("workqueue cancel ($name)", (era) => {
  it("cancel_work_sync: the function runs at most once and never after cancel returned", () => {
    const m = model("cancel", () => {
      const k = boot(era);
      const wq = alloc_workqueue(k, "wq");
      let runs = 0, after = false, cancelled = false;
      const w = init_work(k, "w", function* () { runs++; if (cancelled) after = true; });
      return {
        threads: { T: function* () { yield* queue_work(k, wq, w); yield* cancel_work_sync(k, w); cancelled = true; } },
        final: () => ({ runs, after }),
      };
    });
    claim({ title: "never after", model: m, predicate: (e) => e.final.after || e.final.runs > 1, expect: "Never" });
    claim({ title: "sometimes cancelled before it ran", model: m, predicate: (e) => e.final.runs === 0, expect: "Sometimes" });
  });
});

describe.each(ERAS)("GUP fast ($name)", (era) => {
  it("falls back to the slow path (faulting) for a page that is not present", () => {
    const m = model("gup fast fallback", () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 2);
      populate(k, mm, 0, 1); // page 1 not present
      const pages: number[] = [];
      let n = 0;
      return {
        threads: {
          T: function* () {
            n = yield* (era.pinTracking ? pin_user_pages_fast : get_user_pages_fast)(k, mm, 0, 2, FOLL_WRITE, pages);
            for (const p of pages) yield* (era.pinTracking ? unpin_user_page : put_page)(k, p);
          },
        },
        final: () => ({ n, mapped: mm.cpuPfn(1) > 0 }),
      };
    });
    claim({ title: "both pages", model: m, predicate: (e) => e.final.n === 2 && e.final.mapped, expect: "Always" });
  });
});

describe("GUP-fast against fork", () => {
  const m = (era: typeof E18) =>
    model(`gup-fast vs fork (${era.name})`, () => {
      const k = boot(era);
      const p = mm_alloc(k, 8, "parent"), c = mm_alloc(k, 8, "child");
      mmap_region(p, 0, 1);
      populate(k, p, 0, 1);
      const pages: number[] = [];
      return {
        threads: {
          Drv: function* () { yield* (era.pinTracking ? pin_user_pages_fast : get_user_pages_fast)(k, p, 0, 1, FOLL_WRITE, pages); },
          Fork: function* () { yield* fork(k, p, c); yield* user_write(k, p, 0); },
        },
        final: () => ({ diverged: pages.length > 0 && p.cpuPfn(0) !== pages[0] }),
      };
    });
  // Two threads whose every step touches memory: exhaustive is ~10^5 executions; 2 preemptions suffice.
  it("2018: a GUP-fast pin racing fork can end on the child's page; now: never (<= 2 preemptions)", () => {
    claim({ title: "E18", model: m(E18), predicate: (e) => e.final.diverged, expect: "Sometimes", search: { strategy: "bounded", preemptions: 2 } });
    claim({ title: "now", model: m(ENOW), predicate: (e) => e.final.diverged, expect: "Never", search: { strategy: "bounded", preemptions: 2 } });
  });
});

describe.each(ERAS)("notifier unregister ($name)", (era) => {
  it("after mmu_notifier_unregister returns, no callback runs", () => {
    const m = model("unregister", () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      populate(k, mm, 0, 1);
      let done = false, late = false;
      const sub = new MmuNotifier({ name: "drv", *invalidate_range_start() { if (done) late = true; return 0; } });
      return {
        threads: {
          Drv: function* () { yield* mmu_notifier_register(k, sub, mm); yield* mmu_notifier_unregister(k, sub, mm); done = true; },
          P: function* () { yield* munmap(k, mm, 0, 1); },
        },
        final: () => late,
      };
    });
    claim({ title: "no late callback", model: m, predicate: (e) => e.final === true, expect: "Never" });
  });
});

describe("hmm_range_fault (now)", () => {
  it("returns -EFAULT for a range without a VMA", () => {
    const m = model("efault", () => {
      const k = boot(ENOW);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      const sub = mmu_interval_notifier_attach(new MmuIntervalNotifier(0, 2, { name: "m", *invalidate() { return true; } }), mm);
      let r = 0;
      return {
        threads: {
          T: function* () {
            const seq = yield* mmu_interval_read_begin(k, sub);
            yield* mm.mmapLock.downRead();
            r = yield* hmm_range_fault(k, { notifier: sub, notifier_seq: seq, start: 0, end: 2, hmm_pfns: new Int32Array(2), fault: true, write: true });
            yield* mm.mmapLock.upRead();
          },
        },
        final: () => r,
      };
    });
    claim({ title: "efault", model: m, predicate: (e) => e.final === EFAULT, expect: "Always" });
  });
});

describe("contents bits", () => {
  // The lost-write oracle follows a write's data by its bit in PhysMem.contents: a CPU store sets
  // CPU_WRITE_ID, a device write its own id, and a COW copy copies the mask.
  it("a write sets its bit and a COW copy carries it", () => {
    const m = model("contents", () => {
      const k = boot(E18);
      const p = mm_alloc(k, 8, "parent"), c = mm_alloc(k, 8, "child");
      mmap_region(p, 0, 1);
      const out: number[] = [];
      return {
        threads: {
          T: function* () {
            yield* user_write(k, p, 0);
            const pfn = p.cpuPfn(0);
            const id = yield* k.mem.step("dma", "w", () => k.mem.writeFrame(pfn, "device", k.mem.gen[pfn], p.id, 0, "dma"));
            out.push(id, k.mem.contents[pfn]);
            yield* fork(k, p, c);
            yield* user_write(k, c, 0);
            out.push(p.cpuPfn(0) === c.cpuPfn(0) ? 1 : 0, k.mem.contents[p.cpuPfn(0)], k.mem.contents[c.cpuPfn(0)]);
          },
        },
        final: () => out,
      };
    });
    const both = (1 << CPU_WRITE_ID) | 1;
    claim({ title: "contents", model: m, predicate: (e) => JSON.stringify(e.final) === JSON.stringify([0, both, 0, both, both]), expect: "Always" });
  });
});
