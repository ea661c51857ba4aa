// Two invalidations of one page (one whose callback returns before the PTE moves to frame 2, one
// that changes nothing) against a device that installs the page's translation and then reads and
// writes through it (the gpu_dma tracepoint): every device oracle and stale-install fire in some
// schedule. Used by device-oracle-steps.test.ts and subscriptions.test.ts.
import { model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, PTE_PRESENT } from "../../lib/kernel/mm.ts";
import { mmu_notifier_range_init } from "../../lib/kernel/mmu-notifier.ts";
import { deviceMapInstalled, invalidationBegins, invalidationEnds } from "../../lib/kernel/oracles.ts";
import { installStamp, markCallbackReturned, NO_STAMP, type InstallStamp } from "../../lib/kernel/device-oracles.ts";
import { trace } from "../../lib/kernel/tracepoints.ts";
import { setPte } from "../../lib/kernel/pgtable.ts";

export const invalidationsVsInstall = model("two invalidations of one page vs a device install", () => {
  const k = boot(ENOW);
  const mm = mm_alloc(k, 2, "p");
  mmap_region(mm, 0, 1);
  setPte(mm, 0, 1, PTE_PRESENT);
  const r = mmu_notifier_range_init(k, mm, 0, 1, "CLEAR");
  const d: { stamp: InstallStamp; pfn: number } = { stamp: NO_STAMP, pfn: -1 };
  return {
    threads: {
      A: function* () {
        yield* k.mem.fieldStep("A: invalidate_range_start", "r", () => invalidationBegins(k, r));
        yield* markCallbackReturned(k, mm, 0, 1, "A.invalidate");
        yield* k.mem.step("A: change pte", "w", () => setPte(mm, 0, 2, PTE_PRESENT));
        yield* k.mem.fieldStep("A: invalidate_range_end", "r", () => invalidationEnds(k, r));
      },
      B: function* () {
        yield* k.mem.fieldStep("B: invalidate_range_start", "r", () => invalidationBegins(k, r));
        yield* markCallbackReturned(k, mm, 0, 1, "B.invalidate");
        yield* k.mem.fieldStep("B: invalidate_range_end", "r", () => invalidationEnds(k, r));
      },
      D: function* () {
        yield* k.mem.step("D: install", "w", () => {
          d.stamp = installStamp(k, mm, 0);
          d.pfn = mm.cpuPfn(0);
          deviceMapInstalled(k, mm, 0, d.pfn, "dev");
        });
        yield* k.mem.step("D: access", "w", () => {
          trace(k, "gpu_dma", { who: "dev", write: false, owner: { mm, vpn: 0 }, stamp: d.stamp, pfn: d.pfn });
          trace(k, "gpu_dma", { who: "dev", write: true, owner: { mm, vpn: 0 }, stamp: d.stamp, pfn: d.pfn });
        });
      },
    },
    final: () => mm.cpuPfn(0),
  };
});
