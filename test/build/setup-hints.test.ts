// A machine without Debian's mkdocs or Chromium gets told what to run, not a bare ENOENT.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const run = (args: string[], env: Record<string, string>) => {
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env } });
  return { code: r.status, out: r.stdout + r.stderr };
};

test("a build without mkdocs says to run scripts/setup.sh, or to set MKDOCS", () => {
  const cli = path.join(ROOT, "dist/build/src/cli.js");
  if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run compile` (npm test does it for you)");
  const tmp = mkdtempSync(path.join(tmpdir(), "hints-"));
  try {
    // 14-board.md alone: no blocks to run, so this is quick; the site stage is what is tested.
    const r = run([cli, "build", "--chapters", "test/fixtures/contents-book", "--results", path.join(tmp, "r.json"),
      "--docs", path.join(tmp, "docs"), "--site-dir", path.join(tmp, "site"), "--no-cache"], { MKDOCS: "/nonexistent/mkdocs" });
    expect(r.code).toBe(1);
    expect(r.out).toContain("could not start /nonexistent/mkdocs: spawn /nonexistent/mkdocs ENOENT; run `bash scripts/setup.sh`");
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}, 60_000);

test("npm test's site stage without Chromium says to run scripts/setup.sh, or to set CHROMIUM", () => {
  // Its own output folder and reporter: Playwright empties test-results/ and rewrites its JSON report.
  const tmp = mkdtempSync(path.join(tmpdir(), "hints-"));
  try {
    const r = run([path.join(ROOT, "node_modules/@playwright/test/cli.js"), "test", "-c", "playwright.config.ts", "--reporter", "line", "--output", tmp],
      { CHROMIUM: "/nonexistent/chromium" });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("Chromium is not at /nonexistent/chromium: run `bash scripts/setup.sh`");
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}, 60_000);
