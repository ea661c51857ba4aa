/// <reference lib="dom" />
// Every page of the book, loaded once at 1280 px and looked at by every check that reads a desktop
// page: its blocks and claims, its edit link, no console error and no request leaving localhost
// (book.spec.ts held these); every lane, column and splat visible at 1280 and 1440 px, with one
// witness per chapter kept as a screenshot (fit.spec.ts, issue 16 item 1); and each claim's
// evidence whole beside its verdict (issue 15). A navigation costs several CPU-seconds of Chromium
// on a 970 KB chapter (parse, style, layout and indexing the search), and the site stage is
// CPU-bound on 2 cores: one load per page for all of them, not one per check.
//
// The tests of a page share its load in the worker's tab (tab.ts), so they run in order in one
// worker (describe mode "default"); the pages spread over the workers. Playwright reruns the
// group's beforeAll in a new worker after a failure, so one failing check does not hide the others.

import path from "node:path";
import { readFileSync } from "node:fs";
import { expect, type Page } from "@playwright/test";
import type { Results } from "../../build/src/results.ts";
import { claimsIn, clipped, expectClaims, ROOT, settle, shoot, unpinHeader } from "./page-checks.ts";
import { test, visit, type Tab } from "./tab.ts";

const results: Results = JSON.parse(readFileSync(path.join(ROOT, "results/results.json"), "utf8"));
type Chapter = Results["chapters"][number];

const SITE = process.env.BOOK_SITE_URL ?? "";

/** The group's page, loaded once in the worker's tab, before its tests. */
function onePageGroup(slug: string, body: (tab: () => Tab) => void) {
  test.describe(slug, () => {
    test.describe.configure({ mode: "default" });
    let loaded: Tab | undefined;
    test.beforeAll(async ({ tab }) => {
      await visit(tab, `${SITE}${slug}/`);
      loaded = tab;
    });
    body(() => loaded!);
  });
}

/** Every lane, column and splat at 1280 px, then 1440 px (the reader widens the window), and back. */
async function fitsAtDesktopWidths(page: Page, slug: string): Promise<string[]> {
  const all: string[] = [];
  for (const width of [1280, 1440]) {
    await page.setViewportSize({ width, height: 900 });
    await settle(page);
    all.push(...(await clipped(page)).map((p) => `${slug} at ${width} px: ${p}`));
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await settle(page);
  return all;
}

/** Chapters whose every claim is an era claim (checked before the evidence check moved here). */
const EVERY_CLAIM_AN_ERA_CLAIM = new Set(["01-the-slow-path-and-the-retry-loop", "07-leaked-mappings-and-stray-writes"]);

/** For each claim of the chapter, in page order, whether it was recorded with evidence (an era
 *  claim's kernel versions and commits). A block may record several claims under one id, some
 *  with evidence and some without. */
const withEvidence = (c: Chapter) => claimsIn(c).map(({ r }) => ({ id: r.id ?? "", evidence: !!(r as { evidence?: unknown }).evidence }));

/** Each evidence line lies inside the page and is not cut by its box; a claim recorded with
 *  evidence shows it inside its own box. Returns how many lines it saw and the problems. */
async function evidenceProblems(page: Page, c: Chapter): Promise<{ n: number; bad: string[] }> {
  const found = await page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const out: { n: number; bad: string[] } = { n: 0, bad: [] };
    for (const el of document.querySelectorAll("article .book-evidence, article .book-evidence-brief")) {
      out.n++;
      const r = el.getBoundingClientRect();
      const what = `${el.className} of ${el.closest("[data-claim-id]")?.getAttribute("data-claim-id") ?? "a row"}: "${(el.textContent ?? "").trim().slice(0, 50)}"`;
      if (el.getClientRects().length === 0 || getComputedStyle(el).visibility === "hidden") out.bad.push(`${what} is not shown`);
      else if (r.left < -1 || r.right > vw + 1) out.bad.push(`${what} spans ${Math.round(r.left)}–${Math.round(r.right)} px of ${vw}`);
      else if (el.scrollWidth > el.clientWidth + 1) out.bad.push(`${what} is wider than its box (${el.scrollWidth} > ${el.clientWidth} px)`);
      if (el.classList.contains("book-evidence") && !/v\d+\.\d+/.test(el.textContent ?? "")) out.bad.push(`${what} names no kernel`);
    }
    return out;
  });
  // The claim boxes are the recorded claims in order (the first test of the group checks that).
  const recorded = withEvidence(c);
  const shows = await page.locator(".book-claim").evaluateAll((els) => els.map((el) => !!el.querySelector(".book-evidence")));
  if (shows.length !== recorded.length) found.bad.push(`the page shows ${shows.length} claims, the results record ${recorded.length}`);
  recorded.forEach(({ id, evidence }, i) => { if (evidence && !shows[i]) found.bad.push(`claim ${id} (claim ${i + 1} on the page) was recorded with evidence and shows none`); });
  return found;
}

for (const c of results.chapters) {
  const slug = path.basename(c.file, ".md");
  onePageGroup(slug, (loaded) => {
    test("every shown block has its badge, every claim its verdict, no console error, and the edit link opens the source chapter", async () => {
      const { page, external, errors } = loaded();
      await expect(page.locator("h1").first()).toContainText(c.title);
      await expectClaims(page, c);
      // One look at the loaded page for every block; the page is static once loaded.
      const shown = c.blocks.filter((x) => !x.flags.hidden);
      const seen = await page.evaluate((ids) => ids.map((id) => {
        const el = document.querySelector(`[data-block-id="${CSS.escape(id)}"]`);
        const badge = el?.querySelector(".book-head .book-badge");
        const box = badge?.getBoundingClientRect();
        // Playwright's "visible": a non-empty box and not visibility: hidden.
        const visible = !!badge && !!box && box.width > 0 && box.height > 0 && getComputedStyle(badge).visibility !== "hidden";
        return { id, status: el?.getAttribute("data-status") ?? null, badge: visible, text: el?.textContent ?? "" };
      }), shown.map((b) => b.id));
      const problems: string[] = [];
      for (const [i, b] of shown.entries()) {
        const got = seen[i];
        if (got.status !== b.status) problems.push(`${b.id}: status ${got.status}, expected ${b.status}`);
        if (!got.badge) problems.push(`${b.id}: no visible badge`);
        if (!got.text.includes(`${c.file}:${b.line}`)) problems.push(`${b.id}: does not name ${c.file}:${b.line}`);
      }
      expect(problems).toEqual([]);
      const edit = page.locator('a[title="Edit this page"]');
      await expect(edit).toHaveAttribute("href", new RegExp(`/edit/main/${c.file.replace(/[.]/g, "\\.")}$`));
      expect(external).toEqual([]);
      expect(errors).toEqual([]);
    });

    test("at 1280 and 1440 px every lane, column and splat is visible or in a box that says it scrolls; the widest witness as a screenshot", async () => {
      const { page } = loaded();
      const problems = await fitsAtDesktopWidths(page, slug);
      // The witness with the most lanes: the one most likely not to fit.
      const lanes = await page.locator("svg.swimlane").evaluateAll((svgs) => svgs.map((s) => Number(s.getAttribute("data-threads"))));
      await unpinHeader(page);
      if (lanes.length > 0) await shoot(page, page.locator(".book-witness").nth(lanes.indexOf(Math.max(...lanes))), `${slug}.png`);
      else if (await page.locator("article table").count() > 0) await shoot(page, page.locator("article table").first(), `${slug}-table.png`);
      expect(problems).toEqual([]);
    });

    test("at 1280 px each claim's evidence is visible beside its verdict, whole", async () => {
      const { page } = loaded();
      const { n, bad } = await evidenceProblems(page, c);
      expect(bad).toEqual([]);
      // A floor that does not come from results.json: every claim of these chapters is an era
      // claim, so each must show its evidence even if the results stopped carrying it.
      if (EVERY_CLAIM_AN_ERA_CLAIM.has(slug)) {
        expect(await page.locator(".book-claim:not(:has(.book-evidence))").evaluateAll((els) => els.map((el) => el.getAttribute("data-claim-id")))).toEqual([]);
        expect(n).toBeGreaterThan(20);
      }
      // Each claim recorded with evidence shows one line at least (the scoreboard chapter shows its rows').
      expect(n).toBeGreaterThanOrEqual(withEvidence(c).filter((x) => x.evidence).length);
    });

    // Chapter 00 teaches the reader how to read a block: at 1280 px every line of its code is seen
    // whole, without scrolling a box sideways (the other chapters' boxes may scroll, and say so).
    if (slug === "00-how-to-read-this-book") {
      test("at 1280 px no code box scrolls sideways", async () => {
        const { page } = loaded();
        // Material scrolls the <code> inside each <pre>; either may be the box that overflows.
        const boxes = await page.$$eval("article .highlight pre, article .highlight pre > code", (els) => els.map((e) => ({ over: e.scrollWidth - e.clientWidth, first: (e.textContent ?? "").split("\n")[0]!.slice(0, 60) })));
        expect(boxes.length).toBeGreaterThan(5);
        expect(boxes.filter((b) => b.over > 1)).toEqual([]);
      });
    }
  });
}

onePageGroup("scoreboard", (loaded) => {
  test("at 1280 and 1440 px every column is visible or in a box that says it scrolls; the table as a screenshot", async () => {
    const { page, external, errors } = loaded();
    const problems = await fitsAtDesktopWidths(page, "scoreboard");
    await unpinHeader(page);
    await shoot(page, page.locator("article table").first(), "scoreboard.png");
    expect(problems).toEqual([]);
    expect(external).toEqual([]);
    expect(errors).toEqual([]);
  });
});
