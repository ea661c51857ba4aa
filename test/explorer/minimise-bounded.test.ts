// Witness minimisation skips its preemption bounding for a witness the bounded strategy found
// (minimise.ts `fewestPreemptions`, set by claim.ts decide): that search ran every schedule with
// fewer preemptions, level by level, before it found the witness. Checked here on generated
// programs: the witness, its minimisation text and the budget left for greedy truncation give the
// same result as bounding again (all 172 witnesses of the book, 52 of them a bounded search's, were
// the same before and after too). The test can fail: with the levels run downwards the skipped
// minimisation keeps witnesses that bounding improves; and a random walk's witness is not skipped.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { search, type ExecutionView } from "../../lib/explorer/index.ts";
import { Execution } from "../../lib/explorer/execution.ts";
import { TreeScheduler } from "../../lib/explorer/tree.ts";
import type { Explore } from "../../lib/explorer/search.ts";
import { minimise } from "../../lib/explorer/minimise.ts";
import { runDecisions } from "../../lib/explorer/replay.ts";
import { programArb, programModel } from "./programs.ts";

type Final = { vars: number[] };
const OPTS = { maxPreemptions: 3, executions: 2_000, steps: 250_000, maxSteps: 200 };

/** bounded.ts's levels run from the highest down: a mutant whose first witness need not have the fewest preemptions. */
const levelsDownwards: Explore = (ctx) => {
  for (let k = ctx.config.preemptions ?? 2; k >= 0; k--) {
    const sched = new TreeScheduler(k);
    for (;;) {
      if (ctx.outOfBudget()) return { complete: false, coverage: { kind: "bounded", preemptions: k } };
      const x = new Execution(ctx.model, sched, ctx.maxSteps).run();
      ctx.ran(x);
      if (x.preemptions === k && !ctx.visit(x)) return { complete: false, coverage: { kind: "bounded", preemptions: k } };
      if (!sched.next()) break;
    }
  }
  return { complete: true, coverage: { kind: "bounded", preemptions: ctx.config.preemptions ?? 2 } };
};

/**
 * The first witness of a search for "variable v ends as `value`" (within two preemptions, or a
 * random walk's; at most 1 000 executions: a budget stops a level, never reorders one), minimised
 * both ways: skipping the bounding as decide does, and bounding again.
 */
function bothWays(prog: Parameters<typeof programModel>[0], v: number, value: number, strategy: "bounded" | "random", explore?: Explore) {
  const m = programModel(prog);
  const holds = (f: Final) => f.vars[v] === value;
  const spec = { title: "v", model: m, predicate: (e: ExecutionView<Final>) => holds(e.final), expect: "Sometimes" as const, search: strategy === "bounded" ? { strategy, preemptions: 2 } : { strategy, runs: 300, seed: 7 }, budget: { executions: 1_000 } };
  const rec = explore ? search(spec, { explore }) : search(spec);
  if (!rec.firstTrue) return null;
  const isWitness = (x: Execution) => holds(x.final as Final);
  const found = () => runDecisions(m, rec.firstTrue!, OPTS.maxSteps, false).x;
  return { skipped: minimise(m, isWitness, found(), { ...OPTS, fewestPreemptions: true }), bounded: minimise(m, isWitness, found(), OPTS) };
}

const same = (r: NonNullable<ReturnType<typeof bothWays>>) => JSON.stringify(r.skipped) === JSON.stringify(r.bounded);

describe("minimisation of a bounded search's witness", () => {
  const programs = fc.tuple(programArb, fc.nat(1), fc.nat(2));
  it("skipping the bounding gives the same witness and text (generated programs)", () => {
    let compared = 0;
    fc.assert(
      fc.property(programs, ([prog, v, value]) => {
        const r = bothWays(prog, v, value, "bounded");
        if (r === null) return;
        compared++;
        expect(r.skipped).toEqual(r.bounded);
      }),
      { numRuns: 60, seed: 13 },
    );
    expect(compared).toBeGreaterThan(15);
  });

  it("the test can fail: with bounded.ts's levels run downwards, skipping keeps witnesses bounding improves", () => {
    let differs = 0;
    fc.assert(fc.property(programs, ([prog, v, value]) => {
      const r = bothWays(prog, v, value, "bounded", levelsDownwards);
      if (r !== null && !same(r)) differs++;
    }), { numRuns: 60, seed: 13 });
    expect(differs).toBeGreaterThan(0);
  });

  it("the flag matters: a random walk's witness keeps preemptions that bounding takes off", () => {
    let differs = 0;
    fc.assert(fc.property(programs, ([prog, v, value]) => {
      const r = bothWays(prog, v, value, "random");
      if (r !== null && !same(r)) differs++;
    }), { numRuns: 60, seed: 13 });
    expect(differs).toBeGreaterThan(0);
  });
});
