// The oracle-only memory steps declared "r" (invalidate_range_start / _end's bookkeeping,
// oracles.ts) write ghost state: invalActive and the pending installs. Two such steps of two
// threads are independent for DPOR, so only one of their orders is run. Two invalidations of one
// page by two threads with a device install between them is where their order decides whether a
// pending install is checked once or twice: DPOR must reach every set of findings DFS reaches.
import { describe, expect, it } from "vitest";
import { check, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from "../../lib/kernel/mmu-notifier.ts";
import { deviceMapInstalled } from "../../lib/kernel/oracles.ts";
import { setPte } from "../../lib/kernel/pgtable.ts";
import { PTE_PRESENT } from "../../lib/kernel/mm.ts";

const m = model("two invalidations and an install", () => {
  const k = boot(ENOW);
  const mm = mm_alloc(k, 2, "p");
  mmap_region(mm, 0, 1);
  setPte(mm, 0, 1, PTE_PRESENT);
  return {
    threads: {
      A: function* () {
        const r = mmu_notifier_range_init(k, mm, 0, 1, "CLEAR");
        yield* mmu_notifier_invalidate_range_start(k, r);
        yield* k.mem.step("change pte", "w", () => setPte(mm, 0, 2, PTE_PRESENT));
        yield* mmu_notifier_invalidate_range_end(k, r);
      },
      B: function* () {
        const r = mmu_notifier_range_init(k, mm, 0, 1, "CLEAR");
        yield* mmu_notifier_invalidate_range_start(k, r);
        yield* mmu_notifier_invalidate_range_end(k, r);
      },
      D: function* () {
        yield* k.mem.step("install", "w", () => deviceMapInstalled(k, mm, 0, 1, "dev"));
      },
    },
    final: () => 0,
  };
});

describe("oracle steps declared r", () => {
  it("DPOR reaches every set of findings DFS reaches", () => {
    const seen = (strategy: "dfs" | "dpor") => {
      const sigs = new Set<string>();
      const p = (e: { findings: readonly { kind: string; message: string }[] }) => {
        sigs.add(e.findings.map((f) => `${f.kind}: ${f.message}`).sort().join(" | "));
        return false;
      };
      const r = check({ title: strategy, model: m, predicate: p, expect: "Never", search: { strategy } });
      return { sigs: [...sigs].sort(), n: r.stats.executions };
    };
    const a = seen("dfs"), b = seen("dpor");
    expect(b.sigs).toEqual(a.sigs);
    expect(a.sigs.length).toBe(4); // none, one before, one during, and the install checked at both ends
  });
});
