// DPOR soundness: on random small programs, source-DPOR reaches exactly the final
// states and finding kinds that naive DFS reaches, with no more executions.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { search, type ExecutionView } from "../../lib/explorer/index.ts";
import { Execution } from "../../lib/explorer/execution.ts";
import { exploreDfs } from "../../lib/explorer/dfs.ts";
import { exploreDpor } from "../../lib/explorer/dpor.ts";
import type { Explore } from "../../lib/explorer/search.ts";
import type { Model } from "../../lib/explorer/model.ts";
import { programArb, programModel, stepsOf } from "./programs.ts";

function outcomes(m: Model<unknown>, explore: Explore, limit: number): { set: Set<string>; executions: number; complete: boolean } {
  const set = new Set<string>();
  let executions = 0;
  const r = explore({
    model: m, config: {}, maxSteps: 200,
    visit(x: Execution) {
      executions++;
      set.add(JSON.stringify(x.final) + "|" + [...new Set(x.findings.map((f) => f.kind))].sort().join(","));
      return true;
    },
    outOfBudget: () => executions >= limit,
    ran() {},
  });
  return { set, executions, complete: r.complete };
}

describe("DPOR soundness (property)", () => {
  it("DPOR final states and findings == DFS", () => {
    fc.assert(
      fc.property(programArb, (prog) => {
        fc.pre(prog.reduce((n, t) => n + stepsOf(t), 0) <= Number(process.env.EXPLORER_PROP_STEPS ?? 12));
        const m = programModel(prog) as Model<unknown>;
        const dfs = outcomes(m, exploreDfs, 5_000);
        fc.pre(dfs.complete);
        const dpor = outcomes(m, exploreDpor, 30_000);
        expect(dpor.complete).toBe(true);
        expect([...dpor.set].sort()).toEqual([...dfs.set].sort());
        expect(dpor.executions).toBeLessThanOrEqual(dfs.executions);
      }),
      { numRuns: Number(process.env.EXPLORER_PROP_RUNS ?? 150), seed: Number(process.env.EXPLORER_PROP_SEED ?? 20260325) },
    );
  }, 120_000);

  it("search() through the public API agrees too", () => {
    const prog = [[{ k: "inc" as const, v: 0 }], [{ k: "inc" as const, v: 0 }], [{ k: "r" as const, v: 0 }]];
    const m = programModel(prog);
    const p = (e: ExecutionView<{ vars: number[] }>) => e.final.vars[0] === 1;
    const a = search({ title: "p", model: m, predicate: p, expect: "Sometimes", search: "dfs" }, { stopEarly: false });
    const b = search({ title: "p", model: m, predicate: p, expect: "Sometimes", search: "dpor" }, { stopEarly: false });
    expect(a.counts.true > 0).toBe(b.counts.true > 0);
    expect(b.stats.executions).toBeLessThan(a.stats.executions);
  });
});
