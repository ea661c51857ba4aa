// MMU notifier and interval-notifier contracts (kernel-semantics §16, §17), exit_mmap release,
// and GUP-fast against fork (write_protect_seq, now).
import { describe, expect, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, ERAS } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { MmuNotifier, MmuIntervalNotifier, mmu_interval_notifier_insert, mmu_interval_read_begin, mmu_interval_set_seq, mmu_interval_notifier_insert_at_setup, mmu_notifier_register, mmu_notifier_register_at_setup } from "../../lib/kernel/mmu-notifier.ts";
import { replay } from "../../lib/explorer/replay.ts";
import { encodeToken } from "../../lib/explorer/token.ts";
import { munmap, mmput } from "../../lib/kernel/munmap.ts";
import { MirrorGpu } from "../../lib/kernel/mirror-gpu.ts";

describe.each(ERAS)("notifier ordering ($name)", (era) => {
  it("start runs before the PTE changes and end after; pages are still mapped inside start", () => {
    const m = model("ordering", () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      const [pfn] = populate(k, mm, 0, 1);
      const seen: string[] = [];
      const sub = new MmuNotifier({
        name: "obs",
        *invalidate_range_start() { seen.push(`start:${mm.cpuPfn(0) === pfn}`); return 0; },
        *invalidate_range_end() { seen.push(`end:${mm.cpuPfn(0)}`); },
      });
      return {
        threads: { T: function* () { yield* mmu_notifier_register(k, sub, mm); yield* munmap(k, mm, 0, 1); } },
        final: () => seen.join(","),
      };
    });
    claim({ title: "order", model: m, predicate: (e) => e.final === "start:true,end:-1", expect: "Always" });
  });

  it("exit_mmap: ->release runs before any page is freed; a driver that keeps its GPU PTE past release gets uaf", () => {
    const mk = (tearDown: boolean) =>
      model(`release (${tearDown ? "tears down" : "keeps"})`, () => {
        const k = boot(era);
        const mm = mm_alloc(k, 8);
        mmap_region(mm, 0, 1);
        const [pfn] = populate(k, mm, 0, 1);
        const gpu = new MirrorGpu(k, mm);
        const sub = new MmuNotifier({ name: "drv", *release() { if (tearDown) yield* gpu.unmap(0, 1); } });
        sub.mm = mm;
        mm.notifiers.hlist.push(sub);
        return { threads: { T: function* () { yield* gpu.map(0, [pfn]); yield* mmput(k, mm); } } };
      });
    claim({ title: "keeps", model: mk(false), predicate: (e) => e.has("uaf"), expect: "Always" });
    claim({ title: "tears down", model: mk(true), predicate: (e) => e.has("uaf"), expect: "Never" });
  });
});

describe("mmu_interval_notifier (now)", () => {
  it("read_begin never returns the seq of an invalidation still in flight (it sleeps until it ends)", () => {
    const m = model("read_begin", () => {
      const k = boot(ENOW);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      populate(k, mm, 0, 1);
      const sub = new MmuIntervalNotifier(0, 1, { name: "mirror", *invalidate(s, _r, cur) { yield* mmu_interval_set_seq(k, s, cur); return true; } });
      const seqs: number[] = [];
      return {
        threads: {
          Ins: function* () {
            yield* mmu_interval_notifier_insert(k, sub, mm);
            for (let i = 0; i < 2; i++) {
              const seq = yield* mmu_interval_read_begin(k, sub);
              // Runs right after read_begin's last step: is that invalidation still in flight?
              seqs.push(seq === mm.notifiers.invalidateSeq && mm.notifiers.invalidating() ? 1 : 0);
            }
          },
          P: function* () { yield* munmap(k, mm, 0, 1); },
        },
        final: () => seqs,
      };
    });
    claim({ title: "never in flight", model: m, predicate: (e) => e.final.some((x: number) => x === 1), expect: "Never" });
  });
});

describe("set-seq-skipped (issue 15 item 12)", () => {
  // include/linux/mmu_notifier.h: mmu_interval_set_seq "must be called unconditionally from the
  // invalidate callback". One munmap, one subscription that may or may not call it.
  const run = (callsSetSeq: boolean) => model(`invalidate ${callsSetSeq ? "with" : "without"} set_seq`, () => {
    const k = boot(ENOW);
    const mm = mm_alloc(k, 8);
    mmap_region(mm, 0, 1);
    populate(k, mm, 0, 1);
    const sub = new MmuIntervalNotifier(0, 1, { name: "mirror", *invalidate(s, _r, cur) { if (callsSetSeq) yield* mmu_interval_set_seq(k, s, cur); return true; } });
    return {
      threads: {
        P: function* () {
          yield* mmu_interval_notifier_insert(k, sub, mm);
          yield* munmap(k, mm, 0, 1);
        },
      },
    };
  });
  it("an invalidate that returns true without set_seq is reported", () => {
    claim({ title: "reported", model: run(false), predicate: (e) => e.has("set-seq-skipped"), expect: "Always" });
  });
  it("one that calls it is not", () => {
    claim({ title: "not reported", model: run(true), predicate: (e) => e.has("set-seq-skipped"), expect: "Never" });
  });
});

describe("E18 vs now: no interval notifiers in 2018", () => {
  it("mmu_interval_notifier_insert throws in E18 with a plain-words error", () => {
    const m = model("e18 insert", () => {
      const k = boot(E18);
      const mm = mm_alloc(k, 8);
      const sub = new MmuIntervalNotifier(0, 1, { name: "x", *invalidate() { return true; } });
      return { threads: { T: function* () { yield* mmu_interval_notifier_insert(k, sub, mm); } } };
    });
    let msg = "";
    try {
      claim({ title: "x", model: m, predicate: () => true, expect: "Always" });
    } catch (e) {
      msg = String(e);
    }
    if (!/does not exist in era "E18"/.test(msg)) throw new Error(`expected an era error, got: ${msg}`);
  });
});

describe("the invalidation's first step is named after the code the era runs", () => {
  // An mm without interval subscriptions never calls mn_itree_inv_start_range (v5.5+ tests
  // has_itree first), and the 2018 kernel has no interval tree at all: its trace must not show one.
  const labels = (era: typeof E18, interval: boolean): string[] => {
    const m = model("munmap with a subscriber", () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      populate(k, mm, 0, 1);
      if (interval) mmu_interval_notifier_insert_at_setup(k, new MmuIntervalNotifier(0, 1, { name: "mirror", *invalidate(s, _r, cur) { yield* mmu_interval_set_seq(k, s, cur); return true; } }), mm);
      else mmu_notifier_register_at_setup(new MmuNotifier({ name: "obs", *invalidate_range_start() { return 0; } }), mm);
      return { threads: { T: function* () { yield* munmap(k, mm, 0, 1); } }, final: () => 0 };
    });
    // A label is the call path, outermost first; the step's own name is its last part.
    return replay(m, encodeToken([])).trace.map((e) => e.label.split(" › ").pop()!);
  };
  it("2018: __mmu_notifier_invalidate_range_start walks the list; no interval tree", () => {
    const l = labels(E18, false);
    expect(l.some((s) => s.startsWith("__mmu_notifier_invalidate_range_start("))).toBe(true);
    expect(l.filter((s) => s.includes("mn_itree"))).toEqual([]);
  });
  it("now, list only: mn_hlist_invalidate_range_start, no interval tree step", () => {
    const l = labels(ENOW, false);
    expect(l.some((s) => s.startsWith("mn_hlist_invalidate_range_start("))).toBe(true);
    expect(l.filter((s) => s.includes("mn_itree"))).toEqual([]);
  });
  it("now, with an interval subscription: mn_itree_inv_start_range and mn_itree_inv_end", () => {
    const l = labels(ENOW, true);
    expect(l.some((s) => s.startsWith("mn_itree_inv_start_range("))).toBe(true);
    expect(l).toContain("mn_itree_inv_end");
  });
});
