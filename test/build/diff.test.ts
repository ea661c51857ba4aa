// diffResults: what a change flipped, and "did not run" is not "removed".

import { describe, expect, it } from "vitest";
import { changeLine, changesMarkdown, diffResults } from "../../build/src/diff.ts";
import type { Results } from "../../build/src/results.ts";

const claim = (id: string, observed: string, expected = observed) => ({
  type: "claim", id, title: `claim ${id}`, model: "m", strategy: "dpor", expected, observed, pass: observed === expected, complete: true,
  coverage: { kind: "exhaustive", reduction: "source-DPOR" }, stats: { executions: 1, runs: 1, steps: 1, ms: 0 }, counts: { true: 0, false: 1 }, message: "",
});

function book(blocks: { id: string; status: string; records: unknown[] }[]): Results {
  return {
    schema: "userptr-rfc/results@1", totals: { passed: 0, failed: 0, skipped: 0 }, timings: {},
    chapters: [{
      file: "chapters/99-x.md", title: "x", status: "passed", hash: "h", cached: false, durationMs: 0, diagnostics: [], passed: 0, failed: 0, skipped: 0,
      blocks: blocks.map((b, i) => ({ ...b, line: i * 10 + 1, endLine: i * 10 + 5, kind: "test", flags: { skip: false, fails: false, hidden: false }, durationMs: 0, failure: null })),
    }],
  } as unknown as Results;
}

describe("diffResults", () => {
  it("a claim after one that threw did not run; it was not removed, and that is unexpected", () => {
    const base = book([{ id: "C1", status: "passed", records: [claim("C1", "Never"), claim("C1", "Sometimes")] }]);
    const head = book([{ id: "C1", status: "failed", records: [claim("C1", "Never")] }]);
    const [c] = diffResults(base, head);
    expect(c!.what).toEqual(["not-run"]);
    expect(c!.unexpected).toBe(true);
    expect(changesMarkdown([c!], "main")).toMatch(/Sometimes → did not run/);
  });

  it("a claim inserted in the middle of a block flips nothing after it", () => {
    const base = book([{ id: "C1", status: "passed", records: [claim("C1", "Never"), { ...claim("C1", "Never"), title: "second" }] }]);
    const head = book([{ id: "C1", status: "passed", records: [claim("C1", "Never"), { ...claim("C1", "Sometimes"), title: "inserted" }, { ...claim("C1", "Never"), title: "second" }] }]);
    const cs = diffResults(base, head);
    expect(cs.map((c) => [c.claim, c.what, c.title])).toEqual([["C1#2", ["added"], "inserted"]]);
  });

  it("a claim whose block is gone was removed", () => {
    const base = book([{ id: "C1", status: "passed", records: [claim("C1", "Never")] }, { id: "C2", status: "passed", records: [claim("C2", "Never")] }]);
    const head = book([{ id: "C1", status: "passed", records: [claim("C1", "Never")] }]);
    const [c] = diffResults(base, head);
    expect(c!.what).toEqual(["removed"]);
    expect(c!.unexpected).toBe(false);
  });

  it("a flipped verdict the chapter does not expect is unexpected; one it expects is not", () => {
    const base = book([{ id: "C1", status: "passed", records: [claim("C1", "Never"), claim("C1", "Never")] }]);
    const head = book([{ id: "C1", status: "failed", records: [claim("C1", "Sometimes", "Never"), claim("C1", "Sometimes")] }]);
    const cs = diffResults(base, head);
    expect(cs.map((c) => [c.claim, c.what, c.unexpected])).toEqual([["C1", ["verdict"], true], ["C1#2", ["verdict"], false]]);
    expect(changesMarkdown([], "main")).toMatch(/No claim changed/);
  });

  it("a claim whose evidence changed says so, with the old and the new", () => {
    const ev = (kernels: string[]) => ({ kernels, commits: [{ id: "58bafc666c48", title: "drm/amdgpu: fix waiting for all submissions for userptrs" }] });
    const base = book([{ id: "C1", status: "passed", records: [{ ...claim("C1", "Never"), evidence: ev(["v6.6"]) }, claim("C1", "Never")] }]);
    const head = book([{ id: "C1", status: "passed", records: [{ ...claim("C1", "Never"), evidence: ev(["v6.18"]) }, claim("C1", "Never")] }]);
    const [c, ...rest] = diffResults(base, head);
    expect(rest).toEqual([]);
    expect(c!.what).toEqual(["evidence"]);
    expect(c!.unexpected).toBe(false);
    expect(changeLine(c!)).toContain("[evidence: v6.6 58bafc666c48 → v6.18 58bafc666c48]");
  });
});
