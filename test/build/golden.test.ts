// Golden fixtures: every bad input of test/fixtures/book/ against its reviewed baselines
// (`<name>.extract.json`, `<name>.diagnostics.txt`, `<name>.results.json`). A behaviour change
// shows up as a diff of those files. Refresh them on purpose with:
//   npm run compile && UPDATE_GOLDEN=1 npx vitest run test/build/golden.test.ts

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { extract } from "../../build/src/extract.ts";
import { formatDiagnostic, formatWarning } from "../../build/src/diagnostic.ts";
import type { ChapterResult, Results } from "../../build/src/results.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const BOOK = path.join(ROOT, "test/fixtures/book");
const UPDATE = process.env.UPDATE_GOLDEN === "1";
const fixtures = readdirSync(BOOK).filter((f) => f.endsWith(".md")).sort();

/** What 33-escapes.md tries to write from inside its sandbox. */
const ESCAPED = "/tmp/userptr-rfc-escaped.txt";
/** The watchdog's stall limit for the fixture book (35-infinite-loop.md waits for it once). */
export const FIXTURE_STALL_S = "10";

let results: Results;
let exitCode = 0;
let out = "";
let tmp = "";

beforeAll(() => {
  // The build under test is the compiled CLI, as `npm run build` runs it (npm test compiles first).
  const cli = path.join(ROOT, "dist/build/src/cli.js");
  if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run compile` (npm test does it for you)");
  tmp = mkdtempSync(path.join(tmpdir(), "golden-"));
  rmSync(ESCAPED, { force: true });
  try {
    out = execFileSync(process.execPath, [cli, "build", "--chapters", BOOK, "--results", path.join(tmp, "results.json"),
      "--docs", path.join(tmp, "docs"), "--site-dir", path.join(tmp, "site"), "--no-cache"], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1", BOOK_STALL_S: FIXTURE_STALL_S } });
  } catch (e) {
    const err = e as { status: number; stdout: string };
    exitCode = err.status;
    out = err.stdout;
  }
  results = JSON.parse(readFileSync(path.join(tmp, "results.json"), "utf8"));
}, 300_000);

test("no chapter of the fixture book could write outside the machine", () => {
  expect(existsSync(ESCAPED), `${ESCAPED} exists: a chapter escaped its sandbox`).toBe(false);
});

/** Drops what changes from run to run: times, hashes, cache flags. */
function normalise(c: ChapterResult) {
  return {
    ...c, hash: "<hash>", durationMs: "<ms>", cached: "<cached>",
    blocks: c.blocks.map((b) => ({
      ...b,
      durationMs: b.durationMs === null ? null : "<ms>",
      records: b.records.map((r) => (r && typeof r === "object" && "stats" in r ? { ...r, stats: { ...(r as { stats: object }).stats, ms: "<ms>" } } : r)),
    })),
  };
}

function golden(file: string, actual: string) {
  const p = path.join(BOOK, file);
  if (!UPDATE && !existsSync(p)) throw new Error(`${file} has no baseline yet; create it with UPDATE_GOLDEN=1 and review it`);
  if (UPDATE) writeFileSync(p, actual);
  expect(actual, `${file} differs from its baseline; if the change is intended, refresh with UPDATE_GOLDEN=1`).toBe(readFileSync(p, "utf8"));
}

test("a book with bad chapters exits non-zero and still writes every chapter's result", () => {
  expect(exitCode).toBe(1);
  expect(results.chapters.map((c) => path.basename(c.file))).toEqual(fixtures);
  expect(out).toMatch(/^\d+ passed, \d+ failed, \d+ skipped$/m);
});

describe.each(fixtures)("%s", (name) => {
  const base = name.replace(/\.md$/, "");
  const rel = `test/fixtures/book/${name}`;

  test("extract", () => {
    const ex = extract(rel, readFileSync(path.join(BOOK, name), "utf8"));
    golden(`${base}.extract.json`, JSON.stringify(ex, null, 2) + "\n");
  });

  test("diagnostics, in the terminal and in results.json", () => {
    const c = results.chapters.find((x) => x.file === rel)!;
    const lines = [...(c.warnings ?? []).map(formatWarning), ...c.diagnostics.map(formatDiagnostic)];
    golden(`${base}.diagnostics.txt`, lines.join("\n") + (lines.length ? "\n" : ""));
    for (const l of lines) expect(out).toContain(l);
  });

  test("results", () => {
    const c = results.chapters.find((x) => x.file === rel)!;
    // Claim messages quote their search time ("34 steps, 2 ms"): the one volatile word in them.
    golden(`${base}.results.json`, JSON.stringify(normalise(c), null, 2).replace(/\b\d+(\.\d+)? (ms|s)\b/g, "<t> $2") + "\n");
  });

  test("the page shows every failure and warning at its line", () => {
    const c = results.chapters.find((x) => x.file === rel)!;
    const html = readFileSync(path.join(tmp, "site", base, "index.html"), "utf8");
    for (const d of [...c.diagnostics, ...(c.warnings ?? [])]) expect(html).toContain(`${d.file}:${d.line}:${d.col}`);
    for (const b of c.blocks.filter((x) => x.status === "failed")) {
      expect(html).toContain(`data-block-id="${b.id}" data-status="failed"`);
      if (b.failure?.at) expect(html).toContain(`${b.failure.at.file}:${b.failure.at.line}:${b.failure.at.col}`);
    }
  });
});
