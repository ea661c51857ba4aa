// scripts/measure-merging.sh: the bookkeeping of its measurement (merge-measure.ts) on programs
// small enough to count by hand, and the lines of lib/explorer/ its hooks follow (the script
// refuses to run without them; this says so in npm test, before anyone needs the script).
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { Execution } from "../../lib/explorer/execution.ts";
import { model, search, SharedVar } from "../../lib/explorer/index.ts";
import { measureEnd, measureStep, resetMeasure, totals } from "../../scripts/measure-merging/merge-measure.ts";

/** Hook the measurement where the script does (after a step's advance(), after run()) for one call. */
function measured<T>(f: () => T): T {
  const proto = Execution.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const exec = proto.exec, run = proto.run;
  proto.exec = function (this: Record<string, unknown>, t: unknown, enabled: unknown) {
    const advance = proto.advance;
    this.advance = function (this: unknown, tt: number, v: unknown) {
      advance.call(this, tt, v);
      measureStep(this, tt, v);
    };
    try {
      return exec.call(this, t, enabled);
    } finally {
      delete this.advance;
    }
  };
  proto.run = function (this: unknown) {
    const r = run.call(this);
    measureEnd(this);
    return r;
  };
  try {
    return f();
  } finally {
    proto.exec = exec;
    proto.run = run;
  }
}

const twoWrites = (a: number, b: number) =>
  model(`A writes ${a}, B writes ${b}`, () => {
    const x = new SharedVar("x", 0);
    return { threads: { A: function* () { yield* x.write(a); }, B: function* () { yield* x.write(b); } } };
  });

describe("merge-measure", () => {
  afterEach(() => resetMeasure());

  it("merges the two orders of two writes of one value, and not of two values", () => {
    // DPOR runs AB and BA: four nodes (A, AB, B, BA). With one value, AB and BA reach one state.
    measured(() => search({ title: "same", model: twoWrites(1, 1), predicate: () => false, expect: "Never", search: { strategy: "dpor" } }));
    expect(totals()).toMatchObject({ steps: 4, nodes: 4, states: 3, points: 1, below: 1, outcomes: 1, outcomesUnmerged: 1 });
    resetMeasure();
    measured(() => search({ title: "two values", model: twoWrites(1, 2), predicate: () => false, expect: "Never", search: { strategy: "dpor" } }));
    expect(totals()).toMatchObject({ steps: 4, nodes: 4, states: 4, points: 0, below: 0 });
  });

  it("counts a replayed prefix as steps, not as nodes", () => {
    // Two threads that each write one value twice: DPOR's later executions replay a prefix of an earlier one.
    const m = model("three writers", () => {
      const x = new SharedVar("x", 0);
      const w = function* () { yield* x.write(1); yield* x.write(1); };
      return { threads: { A: w, B: w } };
    });
    measured(() => search({ title: "replay", model: m, predicate: () => false, expect: "Never", search: { strategy: "dpor" } }));
    const t = totals();
    expect(t.steps).toBeGreaterThan(t.nodes);
    expect(t.states).toBeLessThan(t.nodes);
  });

  it("finds the lines of lib/explorer/ that scripts/measure-merging.sh hooks and edits", () => {
    const script = readFileSync(new URL("../../scripts/measure-merging.sh", import.meta.url), "utf8");
    const execution = readFileSync(new URL("../../lib/explorer/execution.ts", import.meta.url), "utf8");
    const claim = readFileSync(new URL("../../lib/explorer/claim.ts", import.meta.url), "utf8");
    expect(execution).toMatch(/^ {4}this\.advance\(t, result\);$/m);
    expect(execution).toContain('if (this.finalFn && this.status !== "pruned") this.final = this.finalFn();');
    expect(claim).toContain("  const cfg: SearchConfig = normaliseSearch(spec.search);");
    expect(claim).toContain("const stopEarly = opts.stopEarly ?? true;");
    for (const line of ["this.advance(t, result);", "this.finalFn && this.status", "const cfg: SearchConfig = normaliseSearch(spec.search);", "const stopEarly = opts.stopEarly ?? true;"])
      expect(script).toContain(line);
  });
});
