// Every explored execution's replay token reproduces it: same steps, final state, findings.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { replay } from "../../lib/explorer/index.ts";
import { exploreDfs } from "../../lib/explorer/dfs.ts";
import { exploreDpor } from "../../lib/explorer/dpor.ts";
import type { Execution } from "../../lib/explorer/execution.ts";
import type { Model } from "../../lib/explorer/model.ts";
import { programArb, programModel } from "./programs.ts";

describe("replay (property)", () => {
  it("tokens of DFS and DPOR executions replay exactly, twice", () => {
    fc.assert(
      fc.property(programArb, fc.boolean(), (prog, useDpor) => {
        const m = programModel(prog) as Model<unknown>;
        const seen: { token: string; final: string; thread: string; findings: string }[] = [];
        (useDpor ? exploreDpor : exploreDfs)({
          model: m, config: {}, maxSteps: 200,
          visit(x: Execution) {
            seen.push({ token: x.token(), final: JSON.stringify(x.final), thread: x.stepThread.join(","), findings: x.findings.map((f) => f.kind).join() });
            return true;
          },
          outOfBudget: () => seen.length >= 40,
          ran() {},
        });
        for (const s of seen) {
          const a = replay(m, s.token), b = replay(m, s.token);
          expect(a.note).toBeUndefined();
          expect(JSON.stringify(a.final)).toBe(s.final);
          expect(a.findings.map((f) => f.kind).join()).toBe(s.findings);
          expect(a.trace).toEqual(b.trace);
        }
      }),
      { numRuns: 60, seed: 7 },
    );
  }, 60_000);
});
