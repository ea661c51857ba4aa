// One browser tab per Playwright worker, navigated from page to page as a reader clicks through
// the book, for the tests that only look at a page. Measured here (December 2026, 16 chapters):
// 39 CPU-seconds of Chromium in one tab against 58–65 s with a new tab or a new context per page.
// A new tab starts a renderer with cold caches, and a closed tab's search worker has already
// fetched and begun indexing the 3 MB search index. The site stage is CPU-bound on 2 cores.
//
// A test that changes how the page behaves (an init script, a route, a permission, a colour
// scheme set by hand) takes Playwright's own `page` instead: nothing it does reaches the tab.

import { test as base, type Page } from "@playwright/test";
import { consoleErrors, offline, settle } from "./page-checks.ts";

/** The shared tab, and what its current page asked of other hosts and said on the console. */
export interface Tab {
  page: Page;
  /** Requests since the last `visit` to any host but the local server. */
  external: string[];
  /** Console errors and uncaught exceptions since the last `visit`. */
  errors: string[];
}

export const test = base.extend<object, { tab: Tab }>({
  tab: [async ({ browser }, use) => {
    const page = await browser.newPage();
    await use({ page, external: offline(page), errors: consoleErrors(page) });
    await page.close();
  }, { scope: "worker" }],
});

/** Loads `url` in the tab at `width` × `height`, from a clean record of requests and errors, and
 *  waits until book.js has looked at the page. The tab leaves for about:blank first, so the page
 *  it leaves is not laid out again at the new width, and nothing it still does is charged to the
 *  new one (about:blank itself would count as external: the record is cleared after it). */
export async function visit(tab: Tab, url: string, width = 1280, height = 900): Promise<Page> {
  await tab.page.goto("about:blank");
  await tab.page.setViewportSize({ width, height });
  tab.external.length = 0;
  tab.errors.length = 0;
  await tab.page.goto(url);
  await settle(tab.page);
  return tab.page;
}
