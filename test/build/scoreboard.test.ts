// The closing chapter's scoreboard: what fails the build at a sentence's directive, and how a
// verdict decided only within a preemption bound reads in the table.

import { describe, expect, it } from "vitest";
import { scoreboardDiagnostics, scoreboardTable, type ScoreInput } from "../../build/src/scoreboard.ts";
import type { ChapterResult } from "../../build/src/results.ts";

type Cov = { kind: "exhaustive"; reduction: string } | { kind: "bounded"; preemptions: number };
const exhaustive: Cov = { kind: "exhaustive", reduction: "source-DPOR" };
const evidence = { kernels: ["v4.16"], commits: [{ id: "aa56a292ce62", title: "a fix" }] };

function claim(id: string, coverage: Cov, withEvidence: boolean, observed = "Never") {
  return {
    type: "claim", id, title: `title of ${id}`, model: "m", strategy: "dpor", expected: observed, observed, pass: true, complete: true,
    coverage, stats: { executions: 1, runs: 1, steps: 1, ms: 1 }, counts: { true: 0, false: 1 },
    ...(withEvidence ? { evidence } : {}),
  };
}

function input(records: unknown[], key = "K-2018 K-now"): ScoreInput {
  const result = {
    file: "chapters/03-x.md", title: "Three", status: "passed", hash: "h", cached: false, durationMs: 1, diagnostics: [],
    blocks: [{ id: "K", line: 10, endLine: 20, kind: "test", flags: { skip: false, fails: false, hidden: false }, status: "passed", durationMs: 1, failure: null, records }],
    passed: 1, failed: 0, skipped: 0,
  } as unknown as ChapterResult;
  return { result, src: `> “A sentence under test.”\n`, directives: [{ line: 5, name: "sentence", attrs: { key } }] };
}

describe("scoreboard", () => {
  it("fails at the directive's line on a key claim without evidence, naming the claim", () => {
    const d = scoreboardDiagnostics([input([claim("K-2018", exhaustive, true), claim("K-now", exhaustive, false)])]).get("chapters/03-x.md") ?? [];
    expect(d.map((x) => [x.line, x.code])).toEqual([[5, "scoreboard"]]);
    expect(d[0]!.message).toMatch(/key claim "K-now" \(title of K-now\) has no evidence/);
  });

  it("accepts key claims that all carry evidence", () => {
    expect(scoreboardDiagnostics([input([claim("K-2018", exhaustive, true), claim("K-now", exhaustive, true)])]).get("chapters/03-x.md")).toBeUndefined();
  });

  it("dashes a Never decided within a preemption bound and says the bound; a proof stays plain", () => {
    const table = scoreboardTable([input([claim("K-2018", exhaustive, true), claim("K-now", { kind: "bounded", preemptions: 2 }, true)])]);
    const row = table.split("\n")[2]!.split(" | ");
    expect(row[2]).toContain(`<span class="book-verdict book-verdict-Never">Never</span>`);
    expect(row[3]).toMatch(/class="book-verdict book-verdict-Never book-bounded"[^>]*>Never ≤ 2</);
  });

  it("does not dash a bounded Sometimes: its witness is a proof", () => {
    const table = scoreboardTable([input([claim("K-2018", { kind: "bounded", preemptions: 1 }, true, "Sometimes"), claim("K-now", exhaustive, true)])]);
    expect(table).not.toContain("book-bounded");
  });
});
