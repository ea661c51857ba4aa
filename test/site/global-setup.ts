// Before the specs: checks that Chromium is there, builds the fixture book (every kind of bad
// input) into its own site, and serves both sites on free ports of the loopback interface (or
// SITE_PORT and SITE_PORT + 1 when set), so two runs, or anything else holding a port, cannot
// break the specs. The specs read the URLs from BOOK_SITE_URL and BOOK_FIXTURE_URL, and the
// fixture book's results and site from BOOK_FIXTURE_RESULTS and BOOK_FIXTURE_SITE, which the
// workers inherit. The real book's site/ is built by `npm run build` beforehand.

import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { CHROMIUM } from "../../playwright.config.ts";
import { fixtureBook } from "../fixture-book.ts";

export default async function globalSetup() {
  const root = path.resolve(import.meta.dirname, "../..");
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not at ${CHROMIUM}: run \`bash scripts/setup.sh\` (it installs Debian's chromium), or set CHROMIUM to a Chromium binary`);
  }
  // npm test built it already for golden.test.ts (fixture-book.ts); on its own, this builds it.
  const fixture = fixtureBook();
  process.env.BOOK_FIXTURE_RESULTS = fixture.results;
  process.env.BOOK_FIXTURE_SITE = fixture.site;
  const { staticServer } = await import(pathToFileURL(path.join(root, "dist/build/src/serve.js")).href) as typeof import("../../build/src/serve.ts");
  const port = Number(process.env.SITE_PORT ?? 0);
  const servers = [
    await staticServer(path.join(root, "site"), port),
    await staticServer(fixture.site, port === 0 ? 0 : port + 1),
  ];
  const url = (i: number) => `http://127.0.0.1:${(servers[i]!.address() as AddressInfo).port}/`;
  process.env.BOOK_SITE_URL = url(0);
  process.env.BOOK_FIXTURE_URL = url(1);
  return () => { for (const s of servers) { s.closeAllConnections(); s.close(); } };
}
