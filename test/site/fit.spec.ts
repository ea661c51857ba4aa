/// <reference lib="dom" />
// Everything fits (issue 16, item 1), checked by geometry rather than presence: on a 390 px phone,
// every swimlane lane and step number, table column and splat of every page lies inside the
// visible area, or inside a box that scrolls sideways and says so (book.js); a three-lane witness
// at 1280 px; a dark and a phone page kept as screenshots in test-results/fit/ for a reader to
// look at. The desktop widths, 1280 and 1440 px, are checked in chapter.spec.ts on the load every
// desktop check of a page shares.

import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "@playwright/test";
import type { Results } from "../../build/src/results.ts";
import { clipped, ROOT, settle, SHOTS, shoot, unpinHeader } from "./page-checks.ts";
import { test, visit } from "./tab.ts";

// The book's site, on the free port global-setup.ts chose.
test.use({ baseURL: process.env.BOOK_SITE_URL });

const results: Results = JSON.parse(readFileSync(path.join(ROOT, "results/results.json"), "utf8"));
const pages = [...results.chapters.map((c) => path.basename(c.file, ".md")), "scoreboard"];

// A phone loads each page at its own width, as a phone does (Material and book.js lay it out at
// load), so these loads are not shared with the desktop checks. One test per page, in the
// worker's tab (tab.ts): the pages spread over the workers.
for (const slug of pages) {
  test(`at 390 px, every lane, column and splat of ${slug} is visible or in a box that says it scrolls`, async ({ tab }) => {
    const page = await visit(tab, `${process.env.BOOK_SITE_URL}${slug}/`, 390, 900);
    expect(await clipped(page)).toEqual([]);
  });
}

test("at 1280 px a three-lane witness is drawn whole, at a readable size", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("./03-a-lock-around-gup/");
  const svg = page.locator('.book-claim[data-claim-id="C03.6-2018"] svg.swimlane');
  await expect(svg.locator(".sl-lane")).toHaveCount(3);
  const { shown, natural } = await svg.evaluate((el) => ({ shown: el.getBoundingClientRect().width, natural: (el as SVGSVGElement).viewBox.baseVal.width }));
  expect(shown / natural).toBeGreaterThanOrEqual(0.99);
  // The lane where the GPU writes the freed frame.
  await svg.scrollIntoViewIfNeeded();
  await expect(svg.locator('.sl-lane[data-thread="gfx:J"]')).toBeInViewport();
});


test("a dark page and a phone page, as screenshots", async ({ page }) => {
  test.setTimeout(300_000);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("./03-a-lock-around-gup/");
  await unpinHeader(page);
  await page.evaluate(() => document.body.setAttribute("data-md-color-scheme", "slate"));
  await shoot(page, page.locator('.book-claim[data-claim-id="C03.6-2018"]'), "dark-C03.6-2018.png");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("./03-a-lock-around-gup/");
  await settle(page);
  const phone = page.locator('.book-claim[data-claim-id="C03.6-2018"]');
  await phone.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, "phone-C03.6-2018.png") });
  await expect(phone.locator(".book-witness > .book-scroll-hint")).toBeVisible();
});
