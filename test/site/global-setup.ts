// Builds the fixture book (every kind of bad input) into its own site, so the specs can check
// how a reader sees failures. The real book's site/ is built by `npm run build` beforehand.

import { execFileSync } from "node:child_process";
import path from "node:path";

export default function globalSetup() {
  const root = path.resolve(import.meta.dirname, "../..");
  try {
    execFileSync(process.execPath, [path.join(root, "dist/build/src/cli.js"), "build",
      "--chapters", "test/fixtures/book", "--results", "test-results/fixture-results.json",
      "--docs", "test-results/fixture-docs", "--site-dir", "test-results/fixture-site", "--no-cache",
      // A hand-written base in which F1 and F2 were Never: the "what changed" page must list both.
      "--base-results", "test/fixtures/diff-base.json"],
    { cwd: root, stdio: "pipe", env: { ...process.env, BOOK_STALL_S: "10" } });
  } catch {
    // Expected: the fixture book fails on purpose. The specs check the site it still rendered.
  }
}
