// The fixture book (test/fixtures/book/, every kind of bad input) built once per `npm test`:
// golden.test.ts checks its results, terminal output and pages, and the Playwright specs serve its
// site. npm test (build/src/test-all.ts) names an empty FIXTURE_BOOK_DIR; the first of the two to
// need the book builds it there and the second reads it. Without the variable (one test file or
// spec run on its own) each builds its own, in a fresh temporary folder. The folder is outside
// test-results/, which Playwright empties before its global setup.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
/** The watchdog's stall limit for the fixture book (35-infinite-loop.md waits for it once). */
export const FIXTURE_STALL_S = "10";

export interface FixtureBook {
  /** results.json, the mkdocs input and the built site. */
  results: string; docs: string; site: string;
  /** The build's terminal output (NO_COLOR) and exit code. */
  out: string; exitCode: number;
}

export function fixtureBook(): FixtureBook {
  const shared = process.env.FIXTURE_BOOK_DIR;
  const dir = shared ?? mkdtempSync(path.join(tmpdir(), "fixture-book-"));
  const paths = { results: path.join(dir, "results.json"), docs: path.join(dir, "docs"), site: path.join(dir, "site") };
  // Written last: its presence means the build finished.
  const done = path.join(dir, "build.json");
  if (shared && existsSync(done)) return { ...paths, ...JSON.parse(readFileSync(done, "utf8")) as { out: string; exitCode: number } };
  mkdirSync(dir, { recursive: true });
  const cli = path.join(ROOT, "dist/build/src/cli.js");
  if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run compile` (npm test does it for you)");
  let out: string, exitCode = 0;
  try {
    out = execFileSync(process.execPath, [cli, "build", "--chapters", path.join(ROOT, "test/fixtures/book"),
      "--results", paths.results, "--docs", paths.docs, "--site-dir", paths.site, "--no-cache",
      // A hand-written base in which F1 and F2 were Never: the "what changed" page must list both.
      "--base-results", path.join(ROOT, "test/fixtures/diff-base.json")],
    { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", BOOK_STALL_S: FIXTURE_STALL_S } });
  } catch (e) {
    // The fixture book fails on purpose; the checks read what it still wrote.
    const err = e as { status: number; stdout: string };
    exitCode = err.status;
    out = err.stdout;
  }
  writeFileSync(done, JSON.stringify({ out, exitCode }));
  return { ...paths, out, exitCode };
}
