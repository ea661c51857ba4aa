// Before the specs: checks that Chromium is there, builds the fixture book (every kind of bad
// input) into its own site, and serves both sites on free ports of the loopback interface (or
// SITE_PORT and SITE_PORT + 1 when set), so two runs, or anything else holding a port, cannot
// break the specs. The specs read the URLs from BOOK_SITE_URL and BOOK_FIXTURE_URL, which the
// workers inherit. The real book's site/ is built by `npm run build` beforehand.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { CHROMIUM } from "../../playwright.config.ts";

export default async function globalSetup() {
  const root = path.resolve(import.meta.dirname, "../..");
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not at ${CHROMIUM}: run \`bash scripts/setup.sh\` (it installs Debian's chromium), or set CHROMIUM to a Chromium binary`);
  }
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
  const { staticServer } = await import(pathToFileURL(path.join(root, "dist/build/src/serve.js")).href) as typeof import("../../build/src/serve.ts");
  const port = Number(process.env.SITE_PORT ?? 0);
  const servers = [
    await staticServer(path.join(root, "site"), port),
    await staticServer(path.join(root, "test-results/fixture-site"), port === 0 ? 0 : port + 1),
  ];
  const url = (i: number) => `http://127.0.0.1:${(servers[i]!.address() as AddressInfo).port}/`;
  process.env.BOOK_SITE_URL = url(0);
  process.env.BOOK_FIXTURE_URL = url(1);
  return () => { for (const s of servers) { s.closeAllConnections(); s.close(); } };
}
