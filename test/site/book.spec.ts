/// <reference lib="dom" />
// What a reader sees, in Debian's Chromium: the chapter list, a failure at its Markdown line, the
// fixture book's claims, witnesses, scoreboard and search, and no request leaving localhost. Each
// page of the book itself is looked at in chapter.spec.ts, one load per page.

import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "@playwright/test";
import type { Results } from "../../build/src/results.ts";
import { claimsIn, clipped, expectClaims, offline, ROOT } from "./page-checks.ts";
import { test, visit } from "./tab.ts";

const results: Results = JSON.parse(readFileSync(path.join(ROOT, "results/results.json"), "utf8"));
// Both sites are served on free ports by global-setup.ts, which sets these (and where the fixture
// book's results and site are: BOOK_FIXTURE_RESULTS, BOOK_FIXTURE_SITE) for the workers.
const FIXTURES = process.env.BOOK_FIXTURE_URL ?? "";
test.use({ baseURL: process.env.BOOK_SITE_URL });

test("the index lists every chapter with its counts", async ({ tab }) => {
  const page = await visit(tab, process.env.BOOK_SITE_URL!, 1280, 720);
  for (const c of results.chapters) {
    await expect(page.locator("article").getByRole("link", { name: c.title })).toBeVisible();
  }
  await expect(page.locator("article")).toContainText(`${results.totals.passed} passed, ${results.totals.failed} failed`);
  expect(tab.external).toEqual([]);
});

const fixtureResults = (): Results => JSON.parse(readFileSync(process.env.BOOK_FIXTURE_RESULTS!, "utf8"));

test("a failing block shows its message at the chapter's line", async ({ tab }) => {
  const page = await visit(tab, FIXTURES + "11-throws/", 1280, 720);
  const block = page.locator('[data-block-id="throws"]');
  await expect(block).toHaveAttribute("data-status", "failed");
  await expect(block.locator(".book-badge")).toHaveText(/failed/);
  await expect(block.locator(".book-failure")).toContainText("value 5 is too large");
  await expect(block.locator(".book-failure")).toContainText("test/fixtures/book/11-throws.md:6:11");
});

// An error names kernel functions and paths, which are long words (mmu_interval_set_seq(amdgpu_hmm_
// invalidate_gfx), 47 characters, widened chapter 12's page on a phone by 71 px): the message
// wraps anywhere rather than make the page scroll sideways.
test("a failure message with a long unbroken word wraps at 390 px instead of widening the page", async ({ tab }) => {
  const page = await visit(tab, FIXTURES + "11-throws/", 390, 900);
  await page.locator('[data-block-id="throws"] .book-failure').evaluate((el) => {
    el.textContent += " mmu_interval_set_seq(amdgpu_hmm_invalidate_gfx)_called_outside_its_ops->invalidate_in_chapters/12-fallbacks-noretry-and-the-recursive-shrinker.md:653:30";
  });
  expect(await clipped(page)).toEqual([]);
});

test("a type error is shown at the top of its chapter and at its block", async ({ tab }) => {
  const page = await visit(tab, FIXTURES + "02-type-error/", 1280, 720);
  const line = "test/fixtures/book/02-type-error.md:6:7 - error TS2322";
  await expect(page.locator(".book-chapter-failure")).toContainText(line);
  await expect(page.locator('[data-block-id="wrong-type"] .book-failure')).toContainText(line);
});

test("a chapter that checks nothing passes with a warning box at the top of its page", async ({ tab }) => {
  const page = await visit(tab, FIXTURES + "16-no-ts/", 1280, 720);
  const box = page.locator(".book-chapter-warning");
  await expect(box).toBeVisible();
  await expect(box).toContainText("test/fixtures/book/16-no-ts.md:1:1 - warning no-blocks:");
  await expect(page.locator(".book-chapter-failure")).toHaveCount(0);
});

test("hidden blocks and directives do not show; fence options do not leak into the page", async ({ tab }) => {
  const page = await visit(tab, FIXTURES + "00-ok/", 1280, 720);
  await expect(page.locator('[data-block-id="hidden-check"]')).toHaveCount(0);
  const html = await page.content();
  expect(html).not.toContain("this directive never shows");
  expect(html).not.toContain("id=doubles");
  await expect(page.locator('[data-block-id="known-bug"] .book-flag')).toHaveText("expected to fail");
});

// ── Claims, witnesses, the scoreboard and "what changed" (issue 8) ──


// The fixture book's chapters are its Markdown files, listed here from disk because Playwright
// lists tests before global-setup.ts has built the book. One test per chapter: a load of even a
// small page costs about a CPU-second of Chromium here, and the pages spread over the workers,
// each loaded in its worker's tab (tab.ts).
const FIXTURE_CHAPTERS = readdirSync(path.join(ROOT, "test/fixtures/book")).filter((f) => f.endsWith(".md")).sort();

test("the fixture book's results hold one chapter per fixture file", () => {
  expect(fixtureResults().chapters.map((c) => path.basename(c.file)).sort()).toEqual(FIXTURE_CHAPTERS);
});

for (const file of FIXTURE_CHAPTERS) {
  test(`fixture book: ${file} loads without console errors, with one claim badge per recorded claim`, async ({ tab }) => {
    const c = fixtureResults().chapters.find((x) => path.basename(x.file) === file)!;
    const page = await visit(tab, FIXTURES + path.basename(file, ".md") + "/", 1280, 720);
    await expectClaims(page, c);
    expect(tab.errors, c.file).toEqual([]);
  });
}

test("a swimlane has one lane per thread of its trace, and the deadlock is highlighted", async ({ tab }) => {
  const c = fixtureResults().chapters.find((x) => x.file.endsWith("18-claims.md"))!;
  const f3 = claimsIn(c).find((x) => x.r.id === "F3")!.r;
  const page = await visit(tab, FIXTURES + "18-claims/", 1280, 720);
  const svg = page.locator('.book-claim[data-claim-id="F3"] svg.swimlane');
  await expect(svg.locator(".sl-lane")).toHaveCount(new Set(f3.witness!.trace.map((e) => e.thread)).size);
  await expect(svg.locator("title").first()).toContainText("F3");
  const bad = svg.locator(".sl-bad").first();
  await bad.scrollIntoViewIfNeeded();
  await expect(bad).toBeVisible();
  await expect(svg.locator(".sl-headline").first()).toContainText("DEADLOCK");
  await expect(page.locator('.book-claim[data-claim-id="F3"] .book-splat')).toContainText("*** DEADLOCK ***");
});

test("the copy button yields the replay command", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.goto(FIXTURES + "18-claims/");
  const claim = page.locator('.book-claim[data-claim-id="F1"]');
  const cmd = await claim.locator(".book-replay-cmd").textContent();
  expect(cmd).toMatch(/^BOOK_REPLAY=\S+ npm run -s chapter -- test\/fixtures\/book\/18-claims\.md F1$/);
  await claim.locator(".book-copy").click();
  await expect(claim.locator(".book-copy")).toHaveText("copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(cmd);
});

test("scoreboard links land on their claims", async ({ tab }) => {
  const page = await visit(tab, FIXTURES + "scoreboard/", 1280, 720);
  const hrefs = await page.locator("a.book-score").evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
  expect(hrefs.length).toBeGreaterThan(2); // the matrix and the list
  for (const href of hrefs) {
    await page.goto(href);
    const target = page.locator(`[id="${new URL(href).hash.slice(1)}"]`);
    await expect(target).toHaveClass(/book-claim/);
    await expect(target).toBeInViewport();
  }
});

test("what changed lists the verdicts the fixture flips, and the chapter carries a banner", async ({ tab }) => {
  const page = await visit(tab, FIXTURES + "changes/", 1280, 720);
  const table = page.locator("article table");
  await expect(table).toContainText("F1");
  await expect(table.locator("tr", { hasText: /\bF2\b/ })).toContainText("unexpected");
  await page.goto(FIXTURES + "18-claims/");
  await expect(page.locator(".book-changes")).toContainText("F2");
});

test("dark mode keeps the swimlane legible", async ({ page }) => {
  await page.goto(FIXTURES + "18-claims/");
  const label = page.locator('.book-claim[data-claim-id="F1"] svg.swimlane .sl-label').first();
  const colours = async () => label.evaluate((el) => {
    const lane = el.closest("svg")!.querySelector(".sl-box")!;
    return { text: getComputedStyle(el).fill, box: getComputedStyle(lane).fill };
  });
  const light = await colours();
  await page.screenshot({ path: "test-results/swimlane-light.png", fullPage: false, clip: (await label.boundingBox()) ? undefined : undefined });
  await page.evaluate(() => document.body.setAttribute("data-md-color-scheme", "slate"));
  const dark = await colours();
  await page.locator('.book-claim[data-claim-id="F1"]').screenshot({ path: "test-results/swimlane-dark.png" });
  expect(dark.text).not.toBe(light.text);
  // Text and box fill differ in both schemes: the label never vanishes into its box.
  expect(light.text).not.toBe(light.box);
  expect(dark.text).not.toBe(dark.box);
});

test("offline search finds a chapter, with no request leaving localhost", async ({ page }) => {
  // Indexing is CPU work in the page: on a loaded machine it took over 30 s once (December 2026,
  // a book build beside the CI run). Generous limits: this test is about what is found and what
  // leaves the machine, not how fast.
  test.setTimeout(240_000);
  const external = offline(page);
  await page.goto("./");
  // Material listens for key events, so type as a reader does rather than fill().
  await page.locator("input.md-search__input").focus();
  await page.keyboard.type("deadlock");
  // The worker first loads and indexes search_index.json (2.5 MB, December 2026).
  await expect(page.locator(".md-search-result__item").first()).toBeVisible({ timeout: 200_000 });
  expect(external).toEqual([]);
});

// A busy machine, made deterministic: the search worker gets no message until the test lets it,
// and the reader types only once the index has been fetched and parsed. Material 8.2.5 alone
// then drops the index's setup message for the typed query and finds nothing, ever
// (search-handshake.js says why); the handshake must hand the index over regardless, also when
// the index is parsed before Material's own script has run.
for (const order of ["index after Material's script", "index before Material's script"]) {
  test(`search works when the reader types before the search worker has answered once (${order})`, async ({ page }) => {
    test.setTimeout(480_000);
    const external = offline(page);
    await page.addInitScript(() => {
      const w = window as unknown as { __releaseSearchWorker: () => void; __indexParsed: boolean };
      const held: [Worker, unknown][] = [];
      let holding = true;
      const post = Worker.prototype.postMessage;
      Worker.prototype.postMessage = function (this: Worker, message: unknown) {
        if (holding) held.push([this, message]);
        else post.call(this, message);
      };
      w.__releaseSearchWorker = () => {
        holding = false;
        for (const [worker, message] of held.splice(0)) post.call(worker, message);
      };
      // Set in a task after the one that parsed the index, so after every promise callback that
      // parse resolved: by then Material (or the handshake) has done all it does with the index.
      const json = Response.prototype.json;
      Response.prototype.json = function (this: Response) {
        const parsed = json.call(this);
        if (this.url.endsWith("/search/search_index.json")) parsed.then(() => setTimeout(() => (w.__indexParsed = true)));
        return parsed;
      };
    });
    const indexParsed = () => page.waitForFunction(() => (window as unknown as { __indexParsed?: boolean }).__indexParsed === true, null, { timeout: 200_000 });
    if (order === "index after Material's script") {
      await page.goto("./");
      await indexParsed();
    } else {
      // Material's bundle is held back until the handshake has fetched and parsed the index.
      let release!: () => void;
      const bundleHeld = new Promise<void>((resolve) => (release = resolve));
      await page.route(/\/assets\/javascripts\/bundle\.[^/]*\.js$/, async (route) => { await bundleHeld; await route.continue(); });
      const loaded = page.goto("./");
      await indexParsed();
      release();
      await loaded;
    }
    await page.locator("input.md-search__input").focus();
    await page.keyboard.type("deadlock");
    await page.evaluate(() => (window as unknown as { __releaseSearchWorker: () => void }).__releaseSearchWorker());
    await expect(page.locator(".md-search-result__item").first()).toBeVisible({ timeout: 200_000 });
    expect(external).toEqual([]);
  });
}

test("every page of both sites weighs under 1 MB", async () => {
  const { readFileSync, readdirSync, statSync } = await import("node:fs");
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith(".html") ? [path.join(dir, e.name)] : []);
  for (const dir of [path.join(ROOT, "site"), process.env.BOOK_FIXTURE_SITE!]) {
    for (const f of walk(dir)) {
      expect(statSync(f).size, f).toBeLessThan(1024 * 1024);
      // build/src/site.ts unwraps pygments' whitespace spans: a tenth of chapter 01's page.
      expect(readFileSync(f, "utf8").includes('<span class="w">'), f).toBe(false);
    }
  }
});
