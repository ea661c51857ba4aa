// The explorer port of bench/s2_userptr.pml (bench/s2-promela.ts) decides what SPIN decides at
// small sizes: the fixed design (interval-notifier sequence check) Never lets the GPU write a
// freed page, the buggy one (start-only subscriber) Sometimes does; and source-DPOR agrees with
// naive DFS on the port. SPIN's own verdicts for these sizes: ../shared/perf/README.md.
import { describe, expect, it } from "vitest";
import { check, search, type ExecutionView } from "../../lib/explorer/index.ts";
import { s2Promela } from "../../bench/s2-promela.ts";

const bad = (e: ExecutionView) => e.has("uaf") || e.has("deadlock") || e.has("livelock");

describe("S2 Promela port", () => {
  for (const [pages, validators] of [[1, 1], [2, 1], [1, 2]] as const) {
    it(`${pages} page(s), ${validators} validator(s): fixed Never, buggy Sometimes`, () => {
      const fixed = check({ title: "fixed", model: s2Promela({ pages, validators, fixed: true }), predicate: bad, expect: "Never" });
      expect(fixed.observed).toBe("Never");
      expect(fixed.complete).toBe(true);
      const buggy = check({ title: "buggy", model: s2Promela({ pages, validators, fixed: false }), predicate: (e) => e.has("uaf"), expect: "Sometimes" });
      expect(buggy.observed).toBe("Sometimes");
      expect(buggy.witness?.findings.map((f) => f.kind)).toContain("uaf");
    }, 60_000);
  }

  it("the stateful strategy (replay and snapshot backtracking) agrees with source-DPOR", () => {
    for (const [pages, validators] of [[1, 1], [2, 1], [1, 2]] as const)
      for (const fixed of [true, false]) {
        const spec = (search: object) => ({ title: "s2", model: s2Promela({ pages, validators, fixed }), predicate: (e: ExecutionView) => e.has("uaf") || e.has("deadlock"), expect: "Never" as const, search });
        const dpor = search(spec({ strategy: "dpor" }), { stopEarly: false });
        for (const snapshots of [false, true]) {
          const st = search(spec({ strategy: "stateful", snapshots, resultsOnly: snapshots }), { stopEarly: false });
          expect(st.complete).toBe(true);
          expect([st.counts.true > 0, st.counts.false > 0]).toEqual([dpor.counts.true > 0, dpor.counts.false > 0]);
        }
      }
  }, 60_000);

  it("with the validators declared symmetric: the same verdicts as without, in fewer states", () => {
    for (const [pages, validators] of [[1, 2], [2, 2], [1, 3]] as const)
      for (const fixed of [true, false]) {
        const spec = (symmetry: boolean) => ({ title: "s2", model: s2Promela({ pages, validators, fixed, symmetry }), predicate: bad, expect: "Never" as const, search: { strategy: "stateful" as const, snapshots: true, resultsOnly: true } });
        const plain = search(spec(false), { stopEarly: false }), sym = search(spec(true), { stopEarly: false });
        expect(sym.complete && plain.complete).toBe(true);
        expect([sym.counts.true > 0, sym.counts.false > 0]).toEqual([plain.counts.true > 0, plain.counts.false > 0]);
        const states = (r: typeof sym) => (r.coverage.kind === "exhaustive" ? (r.coverage.states ?? 0) : 0);
        expect(states(sym)).toBeLessThan(states(plain));
        expect(sym.coverage).toMatchObject({ symmetry: expect.stringMatching(/^T_validate0, T_validate1.* permutations\)$/) });
      }
  }, 60_000);

  it("source-DPOR and DFS reach the same outcomes (1 page, 1 validator, both variants)", () => {
    for (const fixed of [true, false]) {
      const spec = (strategy: "dfs" | "dpor") => ({ title: "s2", model: s2Promela({ pages: 1, validators: 1, fixed }), predicate: (e: ExecutionView) => e.has("uaf"), expect: "Never" as const, search: { strategy } });
      const dfs = search(spec("dfs"), { stopEarly: false });
      const dpor = search(spec("dpor"), { stopEarly: false });
      expect(dfs.complete && dpor.complete).toBe(true);
      expect(dpor.counts.true > 0).toBe(dfs.counts.true > 0);
      expect(dpor.counts.false > 0).toBe(dfs.counts.false > 0);
      expect(dpor.stats.executions).toBeLessThan(dfs.stats.executions);
    }
  });
});
