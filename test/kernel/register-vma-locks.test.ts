// mmu_notifier registration against a per-VMA-lock page fault (issue 15, item 1).
// __mmu_notifier_register (mm/mmu_notifier.c) calls mm_take_all_locks(), which since v6.4
// (eeff9a5d47f8, "mm/mmap: prevent pagefault handler from racing with mmu_notifier
// registration") write-locks every VMA (vma_start_write) before it adds the subscription; the VMA
// locks stay held until mmap_write_unlock. A fault under lock_vma_under_rcu therefore either
// finished before the registration took them, or falls back to mmap_lock and waits for the
// registration to finish: no callback runs while the registration is inside. In v4.16 every
// fault takes mmap_sem, so the same holds there.
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, era, type Era } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { fork } from "../../lib/kernel/fork.ts";
import { user_write } from "../../lib/kernel/user.ts";
import { MmuNotifier, mmu_notifier_register } from "../../lib/kernel/mmu-notifier.ts";

describe("mmu_notifier_register vs a COW fault (mm_take_all_locks)", () => {
  const m = (e: Era) =>
    model(`register vs fork + parent write (${e.name})`, () => {
      const k = boot(e);
      const mm = mm_alloc(k, 4, "parent"), child = mm_alloc(k, 4, "child");
      mmap_region(mm, 0, 1);
      mmap_region(mm, 2, 1); // a second VMA: mm_take_all_locks locks them all, not only the faulting one
      populate(k, mm, 0, 1);
      // "Inside the registration": from mmu_notifier_register's entry until its
      // mmap_write_unlock begins. Once the unlock has dropped the VMA write locks the kernel lets
      // a fault in before up_write; the subscription is complete by then.
      const probe = { inRegister: false, early: false, calls: 0, unpairedEnd: false };
      let regFrames: string[] = [];
      const sub = new MmuNotifier({
        name: "probe",
        *invalidate_range_start() {
          probe.calls++;
          if (probe.inRegister && !regFrames.includes("mmap_write_unlock")) probe.early = true;
        },
        // An invalidation already in flight when the subscription was added: its end reaches the
        // new subscriber, whose start it never saw (what mm_take_all_locks is there to prevent).
        *invalidate_range_end() { if (probe.calls === 0) probe.unpairedEnd = true; },
      });
      return {
        threads: {
          Reg: function* () {
            regFrames = k.current().frames;
            probe.inRegister = true;
            yield* mmu_notifier_register(k, sub, mm);
            probe.inRegister = false;
          },
          Fork: function* () { yield* fork(k, mm, child); yield* user_write(k, mm, 0); },
        },
        final: () => ({ ...probe, registered: mm.notifiers.hlist.includes(sub) }),
      };
    });
  // The probe reads plain fields, which DPOR would not reorder around: bounded search.
  const search = { strategy: "bounded", preemptions: 2 } as const;

  it("now: no callback runs while mmu_notifier_register is inside (every VMA write-locked)", () => {
    claim({ title: "now", model: m(ENOW), predicate: (e) => e.final.early, expect: "Never", search });
    claim({ title: "now: registration always completes", model: m(ENOW), predicate: (e) => !e.final.registered, expect: "Never", search });
    claim({ title: "now: the callback can still run (after registration)", model: m(ENOW), predicate: (e) => e.final.calls > 0, expect: "Sometimes", search });
  });
  it("E18: every fault takes mmap_sem, so no callback runs during registration", () => {
    claim({ title: "E18", model: m(E18), predicate: (e) => e.final.early, expect: "Never", search });
  });
  it("now: a fault in flight across the registration is impossible (vma_start_write waits for it)", () => {
    claim({ title: "now, unpaired end", model: m(ENOW), predicate: (e) => e.final.unpairedEnd, expect: "Never", search });
  });
  it("what-if, now without mm_take_all_locks' VMA write locks: an in-flight COW fault gives the new subscriber an end without a start", () => {
    const e = era(ENOW, { mmTakeAllLocksVmas: false });
    claim({ title: "now, mmTakeAllLocksVmas off, unpaired end", model: m(e), predicate: (x) => x.final.unpairedEnd, expect: "Sometimes", search });
    // This design does nothing under mmap_lock after registering, so even then no callback lands
    // between the list add and the unlock: the in-flight fault is the race the VMA locks close.
    claim({ title: "now, mmTakeAllLocksVmas off, early", model: m(e), predicate: (x) => x.final.early, expect: "Never", search });
  });
});
