/// <reference lib="dom" />
// What the site specs share: looking at a loaded page in one round trip (a navigation and each
// round trip cost seconds on a busy 2-core machine), and screenshots kept for a reader.

import { mkdirSync } from "node:fs";
import path from "node:path";
import { expect, type Locator, type Page } from "@playwright/test";
import type { Results } from "../../build/src/results.ts";

export const ROOT = path.resolve(import.meta.dirname, "../..");
/** Screenshots a reader looks at: one witness per chapter, the scoreboard, a dark and a phone page. */
export const SHOTS = path.join(ROOT, "test-results/fit");
mkdirSync(SHOTS, { recursive: true });

/** Waits until book.js has looked at every box that may scroll (it marks them on a resize observer). */
export async function settle(page: Page) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/**
 * Every lane, column and splat of the page that a reader cannot see: clipped by the window or by a
 * box that hides overflow, unless that box scrolls and shows its hint. Returns one line per problem.
 */
export function clipped(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const problems: string[] = [];
    const shown = (el: Element) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
    const hinted = (box: Element) => box.classList.contains("book-scrolls") && !!box.previousElementSibling?.matches(".book-scroll-hint") && shown(box.previousElementSibling!);
    const name = (el: Element) => {
      const claim = el.closest("[data-claim-id]")?.getAttribute("data-claim-id");
      return `${el.tagName.toLowerCase()}${el.getAttribute("data-thread") ? `[${el.getAttribute("data-thread")}]` : ""}${claim ? ` of ${claim}` : ""}: "${(el.textContent ?? "").trim().slice(0, 40)}"`;
    };
    /** Horizontal extent of `el` that is visible, or "scrolls" if a hinted scrolling box holds it. */
    const check = (el: Element, what: string) => {
      const r = el.getBoundingClientRect();
      let left = 0, right = vw;
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        if (getComputedStyle(a).overflowX === "visible") continue;
        if (a.scrollWidth > a.clientWidth + 1) {
          if (hinted(a)) return; // the reader is told to scroll, and can
          problems.push(`${what} ${name(el)} is cut off by a scrolling box with no hint (${a.className})`);
          return;
        }
        const ar = a.getBoundingClientRect();
        left = Math.max(left, ar.left);
        right = Math.min(right, ar.right);
      }
      if (r.left < left - 1 || r.right > right + 1) problems.push(`${what} ${name(el)} spans ${Math.round(r.left)}–${Math.round(r.right)} px, visible ${Math.round(left)}–${Math.round(right)} px`);
    };
    for (const lane of document.querySelectorAll("svg.swimlane .sl-lane")) if (shown(lane)) check(lane, "lane");
    // The step column too (its labels are right-aligned: a long run's "126–161" once began left of the diagram).
    for (const step of document.querySelectorAll("svg.swimlane .sl-step")) if (shown(step)) check(step, "step number");
    for (const table of document.querySelectorAll("article table")) {
      if (!shown(table)) continue;
      for (const th of table.querySelectorAll("tr:first-child > th, tr:first-child > td")) check(th, "column");
    }
    for (const splat of document.querySelectorAll("article .book-splat")) {
      if (!shown(splat)) continue;
      if (splat.scrollWidth > splat.clientWidth + 1 && !hinted(splat)) problems.push(`splat ${name(splat)} has lines wider than its box and no hint`);
      else check(splat, "splat");
    }
    if (document.documentElement.scrollWidth > vw + 1) problems.push(`the page itself scrolls sideways (${document.documentElement.scrollWidth} px in ${vw} px)`);
    return problems;
  });
}

/**
 * Screenshot of one element by its box. Playwright's element screenshot waits for the element to
 * stop moving, and in one CI run (dark C03.6-2018) it waited out the test's 5 min; a picture kept
 * as an artefact must not make the test depend on that timing (the geometry checks are the specs).
 * Not `fullPage` either: that lays out and rasters the whole page at its full height, 2.5 s of
 * Chromium per 970 KB chapter. The window is made as tall as the element instead (its width, and so
 * the page's layout across, stays), the element scrolled to its top, and the window restored.
 */
export async function shoot(page: Page, el: Locator, file: string): Promise<void> {
  const viewport = page.viewportSize()!;
  const height = Math.ceil(await el.evaluate((e) => e.getBoundingClientRect().height));
  try {
    if (height > viewport.height) await page.setViewportSize({ width: viewport.width, height });
    await el.evaluate((e) => e.scrollIntoView({ block: "start" }));
    await settle(page);
    const box = await el.evaluate((e) => { const r = e.getBoundingClientRect(); return { x: r.left, y: r.top, width: r.width, height: r.height }; });
    if (box.width === 0 || box.height === 0) throw new Error(`${file}: the element to shoot has no box (${box.width} × ${box.height} px)`);
    await page.screenshot({ path: path.join(SHOTS, file), clip: box });
  } finally {
    // The next check on this load measures the page as the reader's window shows it.
    if (height > viewport.height) await page.setViewportSize(viewport);
    await settle(page);
  }
}

/** Material's header is fixed: it would lie across every tall element's screenshot. */
export const unpinHeader = (page: Page) => page.addStyleTag({ content: ".md-header { position: absolute !important; }" });

/** Fails the test if the page asks any host but the local server for anything. */
export function offline(page: Page) {
  const external: string[] = [];
  page.on("request", (r) => {
    const host = new URL(r.url()).hostname;
    if (host !== "127.0.0.1" && !r.url().startsWith("data:")) external.push(r.url());
  });
  return external;
}

/** Collects the page's console errors and uncaught exceptions from now on. */
export function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`));
  return errors;
}

export type ClaimRec = { type: string; id?: string; expected: string; observed: string; witness?: { trace: { thread: string }[]; token: string } };
export const claimsIn = (c: Results["chapters"][number]) => c.blocks.flatMap((b) => (b.records as ClaimRec[]).filter((r) => r.type === "claim").map((r) => ({ b, r })));

/** The loaded chapter shows one claim badge per recorded claim, in page order (a block may record
 *  several claims under one id), each with its verdict and a visible coverage line: read in one
 *  look at the page, as four round trips per claim cost most of a minute over the book. */
export async function expectClaims(page: Page, c: Results["chapters"][number]): Promise<void> {
  const claims = claimsIn(c);
  await expect(page.locator(".book-claim")).toHaveCount(claims.length);
  const shown = await page.locator(".book-claim").evaluateAll((els) => els.map((el) => {
    const cov = el.querySelector(".book-coverage");
    const box = cov?.getBoundingClientRect();
    const visible = !!cov && !!box && box.width > 0 && box.height > 0 && getComputedStyle(cov).visibility !== "hidden";
    return { id: el.getAttribute("data-claim-id"), observed: el.getAttribute("data-observed"), expected: el.getAttribute("data-expected"), coverage: visible };
  }));
  expect(shown, c.file).toEqual(claims.map(({ r }) => ({ id: r.id ?? "", observed: r.observed, expected: r.expected, coverage: true })));
}
