// The device oracles' bookkeeping steps declared "r" that write oracle state: invalidationBegins
// (the mm_invalidate_start probes: invalActive, the per-page count of invalidations begun) and
// markCallbackReturned (the callback_returned probe: the per-page count of returns). Two such
// steps of two threads are independent for DPOR under declared footprints, so only one of their
// orders is run, though both may bump one page's counts. The argument that this is safe: every
// comparison these counts enter (stray-write, stray-read, stale-access's predatesInvalidation) is
// against the counts an install read into its stamp, in a "w" step, and the two orders of two
// adjacent "r" steps put both bumps between the same "w" steps. Under field footprints the bumps
// are commutative updates (lib/kernel/page-counts.ts), which order against the reads of the same
// page only. This test checks it: DPOR (declared and field footprints, source and optimal)
// reaches every set of findings naive DFS reaches, on two invalidations of one page and a device
// that installs the page's translation and writes through it.
import { describe, expect, it } from "vitest";
import { check } from "../../lib/explorer/index.ts";
import { invalidationsVsInstall } from "./invalidations-vs-install.ts";

const m = invalidationsVsInstall;

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
      // field footprints see the counts' bumps as commutative updates, and still order the
      // starts by the count of invalidations in flight (727 executions; 1,148 while the device
      // oracles stamped everything with one global epoch).
      expect(d.n).toBeLessThan("fields" in search ? 1_000 : dfs.n);
      if (process.env.ORACLE_STEPS_VERBOSE) console.log(`${JSON.stringify(search)}: ${d.n} executions (DFS ${dfs.n}), ${d.sigs.length} sets of findings`);
    }
  });
});
