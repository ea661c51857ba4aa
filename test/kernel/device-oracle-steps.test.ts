// The device oracles' bookkeeping steps declared "r" that write oracle state: invalidationBegins
// (oracles.ts: invalActive, the device epoch, invalBegan) and markCallbackReturned
// (device-oracles.ts: the epoch, invalReturned). Two such steps of two threads are independent
// for DPOR, so only one of their orders is run, though each bumps the shared epoch and both may
// set one page's entry. The argument that this is safe: every comparison these values enter
// (stray-write, stray-read, stale-access's predatesInvalidation) is against the epoch of an
// install, taken in a "w" step, and the two orders of two adjacent "r" steps put both values
// between the same "w" steps. This test checks it: DPOR (declared and field footprints, source
// and optimal) reaches every set of findings naive DFS reaches, on two invalidations of one page
// and a device that installs the page's translation and writes through it.
import { describe, expect, it } from "vitest";
import { check, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, PTE_PRESENT } from "../../lib/kernel/mm.ts";
import { mmu_notifier_range_init } from "../../lib/kernel/mmu-notifier.ts";
import { deviceMapInstalled, invalidationBegins, invalidationEnds } from "../../lib/kernel/oracles.ts";
import { checkStaleAccess, checkStrayRead, checkStrayWrite, installEpoch, markCallbackReturned } from "../../lib/kernel/device-oracles.ts";
import { setPte } from "../../lib/kernel/pgtable.ts";

const m = model("two invalidations of one page and a device write", () => {
  const k = boot(ENOW);
  const mm = mm_alloc(k, 2, "p");
  mmap_region(mm, 0, 1);
  setPte(mm, 0, 1, PTE_PRESENT);
  const r = mmu_notifier_range_init(k, mm, 0, 1, "CLEAR");
  let epoch = 0, pfn = -1;
  return {
    threads: {
      // An invalidation whose callback returns before the PTE moves to frame 2.
      A: function* () {
        yield* k.mem.fieldStep("A: invalidate_range_start", "r", () => invalidationBegins(k, r));
        yield* markCallbackReturned(k, mm, 0, 1, "A.invalidate");
        yield* k.mem.step("A: change pte", "w", () => setPte(mm, 0, 2, PTE_PRESENT));
        yield* k.mem.fieldStep("A: invalidate_range_end", "r", () => invalidationEnds(k, r));
      },
      // One that changes nothing.
      B: function* () {
        yield* k.mem.fieldStep("B: invalidate_range_start", "r", () => invalidationBegins(k, r));
        yield* markCallbackReturned(k, mm, 0, 1, "B.invalidate");
        yield* k.mem.fieldStep("B: invalidate_range_end", "r", () => invalidationEnds(k, r));
      },
      // A device that installs what the CPU maps now and later reads and writes through it.
      D: function* () {
        yield* k.mem.step("D: install", "w", () => {
          epoch = installEpoch(k);
          pfn = mm.cpuPfn(0);
          deviceMapInstalled(k, mm, 0, pfn, "dev");
        });
        yield* k.mem.step("D: access", "w", () => {
          checkStrayRead(k, mm, 0, epoch, "dev");
          checkStrayWrite(k, mm, 0, epoch, "dev");
          checkStaleAccess(k, mm, 0, pfn, epoch, "dev");
        });
      },
    },
    final: () => mm.cpuPfn(0),
  };
});

type Search = { strategy: "dfs" | "dpor"; fields?: boolean; optimal?: boolean };

/** Every distinct set of findings (kind, message, data) of a complete search. */
function outcomes(search: Search) {
  const sigs = new Set<string>();
  const r = check({
    title: JSON.stringify(search), model: m, expect: "Never", search,
    predicate: (e) => {
      sigs.add(e.findings.map((f) => `${f.kind}: ${f.message} ${JSON.stringify(f.data ?? null)}`).sort().join(" | "));
      return false;
    },
  });
  return { sigs: [...sigs].sort(), n: r.stats.executions, complete: r.complete };
}

describe("device oracle steps declared r (invalidationBegins, markCallbackReturned)", () => {
  it("DPOR reaches every set of findings DFS reaches", () => {
    const dfs = outcomes({ strategy: "dfs" });
    expect(dfs.complete).toBe(true);
    // Not vacuous: the device writes before, between and after the callbacks' returns, to the
    // frame the CPU still maps or no longer maps, installed before or after an invalidation began.
    const all = dfs.sigs.join("\n");
    for (const f of ["stray-write", "stray-read", "stale-access", "stale-install", "\"predatesInvalidation\":true", "\"predatesInvalidation\":false"])
      expect(all, f).toContain(f);
    for (const search of [{ strategy: "dpor" }, { strategy: "dpor", fields: true }, { strategy: "dpor", optimal: true }] as const) {
      const d = outcomes(search);
      expect(d.complete).toBe(true);
      expect(d.sigs, JSON.stringify(search)).toEqual(dfs.sigs);
      // Declared footprints let the "r" steps commute (fewer executions: the case under test);
      // field footprints see their writes to the oracle's fields and order them, as DFS does.
      if (!("fields" in search)) expect(d.n).toBeLessThan(dfs.n);
      if (process.env.ORACLE_STEPS_VERBOSE) console.log(`${JSON.stringify(search)}: ${d.n} executions (DFS ${dfs.n}), ${d.sigs.length} sets of findings`);
    }
  });
});
