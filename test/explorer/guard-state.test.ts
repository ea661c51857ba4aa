// DPOR's guard states (dpor.ts feasible(), effect.ts Tracked.guardState): a blocked step's
// enabledness before an earlier step, answered by putting its object's old state back for one
// call of the guard instead of re-running the reordered prefix, must change nothing the search
// does. On random programs (with objects that have guard states and the gate, which has none)
// the search runs exactly the executions it runs with every probe re-run, and the check mode,
// which does both and compares, never disagrees. A guard state that leaves out what the guard
// reads is caught both ways: the check mode throws, and the search loses an outcome DFS reaches.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exploreDfs } from "../../lib/explorer/dfs.ts";
import { exploreDporGuards, probeKey, type ProbeKey } from "../../lib/explorer/dpor.ts";
import { Mutex } from "../../lib/explorer/mutex.ts";
import type { Explore } from "../../lib/explorer/search.ts";
import type { Model } from "../../lib/explorer/model.ts";
import { runLog } from "./run-log.ts";
import { blockingProgramArb, type Instr, multiProgramArb, programArb, programModel, spawnBlockingProgramArb, stepsOf } from "./programs.ts";

const explore = (m: Model<unknown>, how: Explore, limit = 20_000) => runLog(m, how, limit);

const small = (prog: Instr[][]): boolean => prog.reduce((n, t) => n + stepsOf(t), 0) <= 14;

/** With guard states the search runs exactly the runs it runs re-running every probe, and the
 *  check mode (both, compared) agrees. */
const sameRuns = (prog: Instr[][]): boolean => {
  fc.pre(small(prog));
  const m = programModel(prog) as Model<unknown>;
  const probe = explore(m, exploreDporGuards("probe"));
  fc.pre(probe.complete);
  const use = explore(m, exploreDporGuards("use"));
  const check = explore(m, exploreDporGuards("check"));
  return use.complete && JSON.stringify(use.runs) === JSON.stringify(probe.runs) && JSON.stringify(check.runs) === JSON.stringify(probe.runs);
};

/** Claims every mutex is held by thread 0 whatever it is (a guard state that says nothing true). */
function withLyingMutex<T>(body: () => T): T {
  const proto = Mutex.prototype as unknown as { guardState(): unknown };
  const real = proto.guardState;
  proto.guardState = () => 0;
  try {
    return body();
  } finally {
    proto.guardState = real;
  }
}

describe("DPOR guard states", () => {
  it.each([
    ["programs", programArb, 60],
    ["multi-object programs", multiProgramArb, 60],
    ["blocking-heavy programs", blockingProgramArb, 200],
    ["blocking programs with spawn()", spawnBlockingProgramArb, 100],
  ] as const)("change no run (%s)", (_n, arb, runs) => {
    fc.assert(fc.property(arb, sameRuns), { numRuns: Number(process.env.EXPLORER_PROP_RUNS ?? runs), seed: 20261205 });
  }, 300_000);

  // Most of these programs' probes stay: the gate has no guard state (on purpose: the fallback is
  // compared too), and an rwsem's read locks commute, so they sit between the race's steps.
  it("answer some of the blocking-heavy programs' probes (the comparison above is not vacuous)", () => {
    const count = (guards: "use" | "probe"): number => {
      let probes = 0;
      const counting: ProbeKey = (o, t, s, q) => (probes++, probeKey(o, t, s, q));
      fc.assert(fc.property(blockingProgramArb, (prog) => {
        fc.pre(small(prog));
        explore(programModel(prog) as Model<unknown>, exploreDporGuards(guards, counting), 5_000);
      }), { numRuns: 200, seed: 20261205 });
      return probes;
    };
    const all = count("probe"), left = count("use");
    expect(all).toBeGreaterThan(100);
    expect(all - left).toBeGreaterThan(30);
  }, 300_000);

  it("mutation: a guard state that leaves out what the guard reads makes the check mode throw", () => {
    const r = withLyingMutex(() => fc.check(fc.property(blockingProgramArb, (prog) => {
      fc.pre(small(prog));
      explore(programModel(prog) as Model<unknown>, exploreDporGuards("check"), 5_000);
    }), { numRuns: 300, seed: 20261205 }));
    expect(r.failed).toBe(true);
    expect(String(r.errorInstance)).toMatch(/guardState\(\) leaves out something/);
  }, 300_000);

  it("mutation: with that guard state the search loses an outcome DFS reaches", () => {
    const r = withLyingMutex(() => fc.check(fc.property(blockingProgramArb, (prog) => {
      fc.pre(prog.reduce((n, t) => n + stepsOf(t), 0) <= 12);
      const m = programModel(prog) as Model<unknown>;
      const dfs = explore(m, exploreDfs, 5_000);
      fc.pre(dfs.complete);
      const dpor = explore(m, exploreDporGuards("use"));
      return dpor.complete && JSON.stringify(dpor.outcomes) === JSON.stringify(dfs.outcomes);
    }), { numRuns: 300, seed: 20261205 }));
    expect(r.failed).toBe(true);
  }, 300_000);
});
