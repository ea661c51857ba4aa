// The coverage words beside each verdict (build/src/claim-view.ts): what decided it, including,
// for a claim that declared `reads`, which findings its predicate read (the other oracles were off
// during its search, lib/explorer/subscriptions.ts), so a reader knows what the verdict covers.
import { describe, expect, it } from "vitest";
import { coverageWords } from "../../build/src/claim-view.ts";

const EX = { kind: "exhaustive", reduction: "source-DPOR", footprints: "fields" } as const;
const STATS = { executions: 1071, ms: 2100 };

describe("coverageWords", () => {
  it("names the findings a claim's predicate read, or the final state alone", () => {
    expect(coverageWords(EX, STATS, true, "Never", "Never", ["uaf"])).toBe("exhaustive, source-DPOR over field footprints, reading only uaf findings, 1 071 executions, 2.10 s");
    expect(coverageWords(EX, STATS, true, "Never", "Never", ["stray-write", "uaf"])).toContain("reading only stray-write, uaf findings");
    expect(coverageWords(EX, STATS, true, "Never", "Never", [])).toContain("reading the final state only (no finding)");
    expect(coverageWords({ kind: "bounded", preemptions: 2 }, STATS, true, "Never", "Never", ["deadlock"])).toBe("bounded: ≤ 2 preemptions, reading only deadlock findings, 1 071 executions, 2.10 s");
  });

  it("a verdict from a search shared by a group: the first claim has its time, a later one points at it", () => {
    expect(coverageWords(EX, STATS, true, "Never", "Never", undefined, { sharedBy: 3 })).toBe("exhaustive, source-DPOR over field footprints, 1 071 executions, 2.10 s, one search for 3 claims");
    expect(coverageWords(EX, { executions: 1071, ms: 0 }, true, "Never", "Never", undefined, { sharedBy: 3, searchedEarlier: true })).toBe("exhaustive, source-DPOR over field footprints, 1 071 executions, the search of an earlier claim above, one for 3 claims");
  });

  it("one execution is singular", () => {
    expect(coverageWords(EX, { executions: 1, ms: 2 }, true, "Never", "Never")).toBe("exhaustive, source-DPOR over field footprints, 1 execution, 2 ms");
  });

  it("says nothing of findings for a claim that reads every kind", () => {
    expect(coverageWords(EX, STATS, true, "Never", "Never")).toBe("exhaustive, source-DPOR over field footprints, 1 071 executions, 2.10 s");
  });
});
