// The table of contents (build/src/contents.ts): a chapter or a key claim that goes missing fails
// the build at the contents file's line, instead of leaving a green scoreboard that no longer
// looks at it. The end-to-end cases build copies of test/fixtures/contents-book with the compiled
// CLI (npm test compiles first), as `npm run build` would.

import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { contentsDiagnostics, parseContents } from "../../build/src/contents.ts";
import { formatDiagnostic } from "../../build/src/diagnostic.ts";
import type { ChapterResult } from "../../build/src/results.ts";
import type { ScoreInput } from "../../build/src/scoreboard.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const BOOK = path.join(ROOT, "test/fixtures/contents-book");
// Three folders below the root, like the fixture, so its `../../../lib/` imports still resolve.
const WORK = path.join(ROOT, "test-results", `contents-${process.pid}`);

afterAll(() => rmSync(WORK, { recursive: true, force: true }));

/** Builds a copy of the fixture book after `edit` changed it; returns the exit code and output. */
function buildCopy(name: string, edit: (dir: string) => void): { code: number; out: string; dir: string } {
  const cli = path.join(ROOT, "dist/build/src/cli.js");
  if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run compile` (npm test does it for you)");
  const dir = path.join(WORK, name);
  mkdirSync(WORK, { recursive: true });
  cpSync(BOOK, dir, { recursive: true });
  edit(dir);
  try {
    const out = execFileSync(process.execPath, [cli, "build", "--chapters", dir, "--results", path.join(dir, "results.json"), "--no-site", "--no-cache"],
      { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    return { code: 0, out, dir: path.relative(ROOT, dir) };
  } catch (e) {
    const err = e as { status: number; stdout: string };
    return { code: err.status, out: err.stdout, dir: path.relative(ROOT, dir) };
  }
}

describe("building a book against its table of contents", () => {
  test("the fixture book as it is passes", () => {
    const r = buildCopy("intact", () => {});
    expect(r.out).toMatch(/^2 passed, 0 failed$/m);
    expect(r.code).toBe(0);
  }, 60_000);

  test("with a chapter deleted, the build fails at the contents line that lists it", () => {
    const r = buildCopy("no-chapter", (d) => unlinkSync(path.join(d, "01-argument.md")));
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${r.dir}/contents.txt:5:1 - error contents-missing-chapter: ${r.dir}/01-argument.md is in the table of contents but not in the book;`);
    expect(r.out).toMatch(/^0 passed, 1 failed$/m);
  }, 60_000);

  test("with a key claim deleted from its chapter and its sentence, the build fails at the contents line that lists it", () => {
    const r = buildCopy("no-claim", (d) => {
      const f = path.join(d, "01-argument.md");
      const src = readFileSync(f, "utf8");
      writeFileSync(f, src.replace(/```ts test id=A1-now[\s\S]*?\n```\n/, "").replace('key="A1-2018 A1-now"', 'key="A1-2018"'));
    });
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${r.dir}/contents.txt:6:13 - error contents-key: key claim A1-now is not in the key of the sentence at ${r.dir}/01-argument.md:5;`);
  }, 60_000);
});

// The rest needs no build: results with the claims each case needs.
const chapter = (file: string, claimIds: string[], diagnostics = 0): ChapterResult => ({
  file, title: file, status: "passed", hash: "", cached: false, durationMs: 0,
  diagnostics: Array.from({ length: diagnostics }, () => ({ file, line: 1, col: 1, stage: "typecheck" as const, code: "TS1", message: "x" })),
  blocks: [{ id: "b", line: 1, endLine: 2, kind: "test", flags: { skip: false, fails: false, hidden: false }, status: "passed", durationMs: 0, failure: null,
    records: claimIds.map((id) => ({ type: "claim", id })) }],
  passed: 1, failed: 0, skipped: 0,
});
const input = (file: string, claimIds: string[], key?: string, diagnostics = 0): ScoreInput => ({
  result: chapter(`book/${file}`, claimIds, diagnostics), src: "",
  directives: [...(key !== undefined ? [{ line: 3, name: "sentence", attrs: { key } }] : []), ...(file.startsWith("14") ? [{ line: 2, name: "scoreboard", attrs: {} }] : [])],
});

function check(contents: string | null, inputs: ScoreInput[]): string[] {
  const dir = path.join(WORK, "unit", String(Math.random()).slice(2));
  mkdirSync(dir, { recursive: true });
  if (contents !== null) writeFileSync(path.join(dir, "contents.txt"), contents);
  const root = path.dirname(dir);
  return [...contentsDiagnostics(root, dir, inputs)].flatMap(([owner, ds]) => ds.map((d) => `${owner} ${formatDiagnostic(d)}`.replaceAll(path.basename(dir), "B")));
}

const book = () => [input("00-a.md", []), input("01-b.md", ["K1", "K2", "X"], "K1 K2"), input("14-board.md", [])];

describe("contentsDiagnostics", () => {
  test("a book that matches its contents has nothing to report", () => {
    expect(check("00-a.md\n01-b.md  K1\n    K2  # the second key\n14-board.md\n", book())).toEqual([]);
  });

  test("a book with a scoreboard must have a table of contents", () => {
    expect(check(null, book())).toEqual([expect.stringMatching(/^book\/14-board\.md book\/14-board\.md:2:1 - error contents: the book has a scoreboard but no table of contents B\/contents\.txt;/)]);
  });

  test("an unlisted chapter is an error at its own first line", () => {
    expect(check("00-a.md\n01-b.md K1 K2\n", book())).toEqual([
      expect.stringMatching(/^book\/14-board\.md book\/14-board\.md:1:1 - error contents-unlisted: 14-board\.md is not in the table of contents B\/contents\.txt;/),
    ]);
  });

  test("a key claim without a result, or one that the sentence and the contents disagree on, is an error at the contents line", () => {
    const inputs = book();
    inputs[1] = input("01-b.md", ["K1"], "K1 K2 K3");
    expect(check("00-a.md\n01-b.md K1 K2\n    K4\n14-board.md\n", inputs)).toEqual([
      expect.stringMatching(/^book\/14-board\.md B\/contents\.txt:2:1 - error contents-key: the sentence at book\/01-b\.md:3 names key claim K3, which the table of contents does not list for 01-b\.md; add it here$/),
      expect.stringMatching(/B\/contents\.txt:2:12 - error contents-missing-claim: key claim K2 has no result in book\/01-b\.md;/),
      expect.stringMatching(/B\/contents\.txt:3:5 - error contents-key: key claim K4 is not in the key of the sentence at book\/01-b\.md:3;/),
    ]);
  });

  test("a chapter that failed before running is not blamed again for its missing claims", () => {
    const inputs = book();
    inputs[1] = input("01-b.md", [], "K1", 1);
    expect(check("00-a.md\n01-b.md K1\n14-board.md\n", inputs)).toEqual([]);
  });

  test("order, doubles and stray lines are errors at their line", () => {
    expect(check("    K0\n01-b.md K1 K2\n00-a.md\n00-a.md\nnotes\n14-board.md\n", book())).toEqual([
      expect.stringMatching(/B\/contents\.txt:1:5 - error contents: key claims before the first chapter;/),
      expect.stringMatching(/B\/contents\.txt:4:1 - error contents: 00-a\.md is already listed at line 3;/),
      expect.stringMatching(/B\/contents\.txt:5:1 - error contents: "notes" is not a chapter's file name/),
      expect.stringMatching(/B\/contents\.txt:3:1 - error contents-order: 00-a\.md is listed after 01-b\.md \(line 2\)/),
    ]);
  });

  test("parseContents keeps every word's line and column", () => {
    expect(parseContents("c.txt", "# x\n01-b.md K1\r\n\tK2 K3\n").entries).toEqual([
      { text: "01-b.md", line: 2, col: 1, keys: [{ text: "K1", line: 2, col: 9 }, { text: "K2", line: 3, col: 2 }, { text: "K3", line: 3, col: 5 }] },
    ]);
  });
});
