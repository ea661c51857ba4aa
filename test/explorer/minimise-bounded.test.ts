// Witness minimisation skips its preemption bounding for a witness the bounded strategy found
// (minimise.ts `fewestPreemptions`, set by claim.ts decide): that search ran every schedule with
// fewer preemptions, level by level, before it found the witness. Checked here on generated
// programs: the witness, its minimisation text and the budget left for greedy truncation give the
// same result as bounding again (searched within one preemption, to keep the test quick; all 172
// witnesses of the book, 52 of them a bounded search's, were the same before and after); and the flag
// matters: given to a witness a random walk found, it keeps preemptions that bounding takes off.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { search, type ExecutionView } from "../../lib/explorer/index.ts";
import type { Execution } from "../../lib/explorer/execution.ts";
import { exploreBounded } from "../../lib/explorer/bounded.ts";
import { minimise } from "../../lib/explorer/minimise.ts";
import { runDecisions } from "../../lib/explorer/replay.ts";
import { blockingProgramArb, programArb, programModel } from "./programs.ts";

type Final = { vars: number[] };
const OPTS = { maxPreemptions: 3, executions: 2_000, steps: 250_000, maxSteps: 200 };

/** The final variables of every schedule without a preemption (each thread runs until it ends or blocks). */
function serialOutcomes(m: ReturnType<typeof programModel>): Set<string> {
  const set = new Set<string>();
  exploreBounded({ model: m, config: { preemptions: 0 }, maxSteps: OPTS.maxSteps, visit: (x) => (set.add(JSON.stringify((x.final as Final).vars)), true), outOfBudget: () => false, ran() {} });
  return set;
}

/**
 * The first witness of `strategy` for "the variables end as no schedule without a preemption
 * leaves them", minimised both ways.
 */
function bothWays(prog: Parameters<typeof programModel>[0], strategy: "bounded" | "random") {
  const m = programModel(prog);
  const serial = serialOutcomes(m);
  const holds = (f: Final) => !serial.has(JSON.stringify(f.vars));
  const rec = search({ title: "not serial", model: m, predicate: (e: ExecutionView<Final>) => holds(e.final), expect: "Sometimes", search: strategy === "bounded" ? { strategy, preemptions: 1 } : { strategy, runs: 300, seed: 7 } });
  if (!rec.firstTrue) return null;
  const isWitness = (x: Execution) => holds(x.final as Final);
  const found = () => runDecisions(m, rec.firstTrue!, OPTS.maxSteps, false).x;
  return { skipped: minimise(m, isWitness, found(), { ...OPTS, fewestPreemptions: true }), bounded: minimise(m, isWitness, found(), OPTS) };
}

describe("minimisation of a bounded search's witness", () => {
  it("skipping the bounding gives the same witness and text (generated programs)", () => {
    let compared = 0, withPreemptions = 0;
    fc.assert(
      fc.property(programArb, (prog) => {
        const r = bothWays(prog, "bounded");
        if (r === null) return;
        compared++;
        if (!r.bounded.minimisation.includes("already 0")) withPreemptions++;
        expect(r.skipped).toEqual(r.bounded);
      }),
      { numRuns: 120, seed: 13 },
    );
    // The property is not vacuous: witnesses were found, some needing a preemption.
    expect(compared).toBeGreaterThan(10);
    expect(withPreemptions).toBe(compared);
  });

  it("the flag matters: a random walk's witness keeps preemptions that bounding takes off", () => {
    let differs = 0;
    fc.assert(
      fc.property(programArb, (prog) => {
        const r = bothWays(prog, "random");
        if (r !== null && r.skipped.decisions.join() !== r.bounded.decisions.join()) differs++;
      }),
      { numRuns: 80, seed: 13 },
    );
    expect(differs).toBeGreaterThan(0);
  });
});
