// Per-VMA locks (v6.4, kernel-semantics §5): in "now", a page fault in VMA A runs while an
// mmap_lock writer works on VMA B; a fault in the VMA being changed waits. In 2018 every fault
// takes mmap_sem and waits for any writer.
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, type Era } from "../../lib/kernel/era.ts";
import { lock_vma_under_rcu, mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { handle_mm_fault } from "../../lib/kernel/fault.ts";
import { mprotect, PROT_READ } from "../../lib/kernel/mprotect.ts";
import { user_write } from "../../lib/kernel/user.ts";

describe("per-VMA locks", () => {
  const m = (era: Era, sameVma: boolean) =>
    model(`vma lock (${era.name}, ${sameVma ? "same VMA" : "other VMA"})`, () => {
      const k = boot(era);
      const mm = mm_alloc(k, 16);
      mmap_region(mm, 0, 4);
      mmap_region(mm, 4, 4);
      let faultedDuringWrite = false, insideWriteLockedVma = false;
      return {
        threads: {
          Writer: function* () { yield* mprotect(k, mm, 0, 4, PROT_READ); },
          Toucher: function* () {
            // The page-fault entry of user_write: the VMA read lock, else mmap_lock.
            const vpn = sameVma ? 0 : 4;
            const v = yield* lock_vma_under_rcu(mm, vpn);
            if (v) {
              if (mm.mmapLock.writeLocked()) faultedDuringWrite = true;
              if (v.writeLocked) insideWriteLockedVma = true;
              yield* handle_mm_fault(k, mm, vpn, { write: true });
              if (v.writeLocked) insideWriteLockedVma = true;
              yield* v.vmLock().upRead();
            }
            yield* user_write(k, mm, vpn);
          },
        },
        final: () => ({ faultedDuringWrite, insideWriteLockedVma }),
      };
    });
  it("now: a fault in another VMA completes while mprotect holds mmap_lock for write; E18: never", () => {
    claim({ title: "now, other VMA", model: m(ENOW, false), predicate: (e) => e.final.faultedDuringWrite, expect: "Sometimes" });
    claim({ title: "E18, other VMA", model: m(E18, false), predicate: (e) => e.final.faultedDuringWrite, expect: "Never" });
  });
  it("now: a fault never runs inside a VMA the writer has write-locked (vma_start_write waits for it)", () => {
    claim({ title: "now, same VMA", model: m(ENOW, true), predicate: (e) => e.final.insideWriteLockedVma, expect: "Never" });
  });
});
