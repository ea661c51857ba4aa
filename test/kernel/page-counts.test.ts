// The device oracles' per-page counts (lib/kernel/page-counts.ts). Two invalidation callbacks of one
// page returning are bookkeeping that commutes: under field footprints DPOR must not order them
// (the global epoch they replaced did, on every page), while an install that takes its stamp, and a
// device write that compares against it, still order against each return. And the stray-write
// oracle must find exactly what naive DFS finds.
import { describe, expect, it } from "vitest";
import { check, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, PTE_PRESENT } from "../../lib/kernel/mm.ts";
import { setPte } from "../../lib/kernel/pgtable.ts";
import { installStamp, markCallbackReturned, NO_STAMP, type InstallStamp } from "../../lib/kernel/device-oracles.ts";
import { trace } from "../../lib/kernel/tracepoints.ts";
import { MAP_OWNER_DEVICE } from "../../lib/kernel/field-log.ts";

/** Where B's callback returns: page 0 of D's mm (as A's), page 1 of it, or page 0 of another mm. */
type BOn = "same" | "other page" | "other mm";

/** Callbacks of threads A and B return (A's for page 0 of mm p, B's as `b` says); with `device`,
 *  D installs p:0's translation and then writes through it. `hide`: the mutant whose field log
 *  does not see the return counts (FieldLog.drop). */
const returnsVsDevice = (device: boolean, b: BOn = "same", hide = false) => model(`two callback returns${device ? " vs a device" : ""}, B on ${b}${hide ? " (return counts hidden)" : ""}`, () => {
  const k = boot(ENOW);
  const mm = mm_alloc(k, 2, "p"), q = mm_alloc(k, 2, "q");
  const fl = k.mem.fields;
  // DeviceState.returned's fields: (MAP, MAP_OWNER_DEVICE + mm.id, vpn, 0).
  if (hide && fl) fl.drop = (f) => fl.describe(f).startsWith(`map:${MAP_OWNER_DEVICE + mm.id}:`);
  mmap_region(mm, 0, 2);
  setPte(mm, 0, 1, PTE_PRESENT);
  const d: { stamp: InstallStamp } = { stamp: NO_STAMP };
  const threads: Record<string, () => Generator<unknown, void, unknown>> = {
    A: function* () { yield* markCallbackReturned(k, mm, 0, 1, "A.invalidate"); },
    B: function* () { yield* markCallbackReturned(k, b === "other mm" ? q : mm, b === "other page" ? 1 : 0, b === "other page" ? 2 : 1, "B.invalidate"); },
  };
  if (device)
    threads.D = function* () {
      yield* k.mem.fieldStep("D: install", "w", () => { d.stamp = installStamp(k, mm, 0); });
      yield* k.mem.fieldStep("D: write", "w", () => trace(k, "gpu_dma", { who: "dev", write: true, owner: { mm, vpn: 0 }, stamp: d.stamp, pfn: 1 }));
    };
  return { threads: threads as never, final: () => 0 };
});

function run(device: boolean, strategy: "dfs" | "dpor", b: BOn = "same", hide = false) {
  const seen = new Set<string>();
  const r = check({
    title: "page counts", model: returnsVsDevice(device, b, hide), expect: "Never", reads: ["stray-write"],
    search: strategy === "dpor" ? { strategy, fields: true } : { strategy },
    predicate: (e) => { seen.add(e.findingsOf("stray-write").map((f) => f.message).sort().join(" | ")); return false; },
  });
  expect(r.complete).toBe(true);
  return { n: r.stats.executions, outcomes: [...seen].sort() };
}

describe("per-page counts of the device oracles", () => {
  it("two callback returns of one page commute under field footprints: one execution", () => {
    expect(run(false, "dfs").n).toBe(2);
    expect(run(false, "dpor").n).toBe(1);
  });

  it("an install and a device write still order against each return; stray-write as DFS finds it", () => {
    const dfs = run(true, "dfs"), dpor = run(true, "dpor");
    // Not vacuous: the write is stray in some schedules (a return between install and write) and not in others.
    expect(dfs.outcomes.some((o) => o.includes("installed before the invalidation callback"))).toBe(true);
    expect(dfs.outcomes).toContain("");
    expect(dpor.outcomes).toEqual(dfs.outcomes);
    // Each return falls before D's install, between its install and write, or after the write:
    // 3 x 3 classes, one execution each (A and B need no order between them). The global epoch
    // ordered A against B as well.
    expect(dpor.n).toBe(9);
  });

  it("the comparison can fail: with the return counts hidden from the field log, DPOR loses the stray write", () => {
    const dfs = run(true, "dfs"), hidden = run(true, "dpor", "same", true);
    expect(hidden.outcomes).not.toEqual(dfs.outcomes);
    expect(hidden.n).toBeLessThan(9);
  });

  for (const b of ["other page", "other mm"] as const)
    it(`a return on ${b === "other page" ? "another page of the mm" : "the same page of another mm"} is independent of the install, and never makes its write stray`, () => {
      const dfs = run(true, "dfs", b), dpor = run(true, "dpor", b);
      expect(dpor.outcomes).toEqual(dfs.outcomes);
      // Only A's return can come between D's install and write: stray in some schedules, by A alone.
      expect(dfs.outcomes).toEqual(["", "dev wrote through its mapping of p:0, installed before the invalidation callback for it returned: the write reached frame 1"]);
      // B's page is not D's: only A orders against D (3 places for A among D's two steps).
      expect(dpor.n).toBe(3);
    });
});
