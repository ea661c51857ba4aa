/// <reference lib="dom" />
// What a reader sees, in Debian's Chromium: the chapter list, each block's badge, a failure at
// its Markdown line, the edit link into the source chapter, and no request leaving localhost.

import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import type { Results } from "../../build/src/results.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const results: Results = JSON.parse(readFileSync(path.join(ROOT, "results/results.json"), "utf8"));
// Both sites are served on free ports by global-setup.ts, which sets these (and where the fixture
// book's results and site are: BOOK_FIXTURE_RESULTS, BOOK_FIXTURE_SITE) for the workers.
const FIXTURES = process.env.BOOK_FIXTURE_URL ?? "";
test.use({ baseURL: process.env.BOOK_SITE_URL });

/** Fails the test if the page asks any host but the local server for anything. */
function offline(page: Page) {
  const external: string[] = [];
  page.on("request", (r) => {
    const host = new URL(r.url()).hostname;
    if (host !== "127.0.0.1" && !r.url().startsWith("data:")) external.push(r.url());
  });
  return external;
}

test("the index lists every chapter with its counts", async ({ page }) => {
  const external = offline(page);
  await page.goto("./");
  for (const c of results.chapters) {
    await expect(page.locator("article").getByRole("link", { name: c.title })).toBeVisible();
  }
  await expect(page.locator("article")).toContainText(`${results.totals.passed} passed, ${results.totals.failed} failed`);
  expect(external).toEqual([]);
});

const fixtureResults = (): Results => JSON.parse(readFileSync(process.env.BOOK_FIXTURE_RESULTS!, "utf8"));
type ClaimRec = { type: string; id?: string; expected: string; observed: string; witness?: { trace: { thread: string }[]; token: string } };
const claimsIn = (c: Results["chapters"][number]) => c.blocks.flatMap((b) => (b.records as ClaimRec[]).filter((r) => r.type === "claim").map((r) => ({ b, r })));

/** Collects the page's console errors from now on. */
function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  return errors;
}

/** The loaded chapter shows one claim badge per recorded claim, in page order (a block may record
 *  several claims under one id), each with its verdict and a visible coverage line: read in one
 *  look at the page, as four round trips per claim cost most of a minute over the book. */
async function expectClaims(page: Page, c: Results["chapters"][number]): Promise<void> {
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

// Each chapter is loaded once: its blocks, its claims, its edit link, no console error and no
// request leaving localhost (a navigation costs seconds on a busy 2-core machine).
for (const c of results.chapters) {
  const slug = path.basename(c.file, ".md");
  test(`${slug}: every shown block has its badge, every claim its verdict, no console error, and the edit link opens the source chapter`, async ({ page }) => {
    const external = offline(page);
    const errors = consoleErrors(page);
    await page.goto(`./${slug}/`);
    await expect(page.locator("h1").first()).toContainText(c.title);
    await expectClaims(page, c);
    // One look at the loaded page for every block (a round trip per assertion cost seconds per
    // chapter on a busy machine); the page is static once loaded.
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
}

test("a failing block shows its message at the chapter's line", async ({ page }) => {
  await page.goto(FIXTURES + "11-throws/");
  const block = page.locator('[data-block-id="throws"]');
  await expect(block).toHaveAttribute("data-status", "failed");
  await expect(block.locator(".book-badge")).toHaveText(/failed/);
  await expect(block.locator(".book-failure")).toContainText("value 5 is too large");
  await expect(block.locator(".book-failure")).toContainText("test/fixtures/book/11-throws.md:6:11");
});

test("a type error is shown at the top of its chapter and at its block", async ({ page }) => {
  await page.goto(FIXTURES + "02-type-error/");
  const line = "test/fixtures/book/02-type-error.md:6:7 - error TS2322";
  await expect(page.locator(".book-chapter-failure")).toContainText(line);
  await expect(page.locator('[data-block-id="wrong-type"] .book-failure')).toContainText(line);
});

test("a chapter that checks nothing passes with a warning box at the top of its page", async ({ page }) => {
  await page.goto(FIXTURES + "16-no-ts/");
  const box = page.locator(".book-chapter-warning");
  await expect(box).toBeVisible();
  await expect(box).toContainText("test/fixtures/book/16-no-ts.md:1:1 - warning no-blocks:");
  await expect(page.locator(".book-chapter-failure")).toHaveCount(0);
});

test("hidden blocks and directives do not show; fence options do not leak into the page", async ({ page }) => {
  await page.goto(FIXTURES + "00-ok/");
  await expect(page.locator('[data-block-id="hidden-check"]')).toHaveCount(0);
  const html = await page.content();
  expect(html).not.toContain("this directive never shows");
  expect(html).not.toContain("id=doubles");
  await expect(page.locator('[data-block-id="known-bug"] .book-flag')).toHaveText("expected to fail");
});

// ── Claims, witnesses, the scoreboard and "what changed" (issue 8) ──


test("fixture book: every chapter loads without console errors, with one claim badge per recorded claim", async ({ page }) => {
  test.setTimeout(300_000); // every chapter in turn, on a busy 2-core machine
  for (const c of fixtureResults().chapters) {
    const errors = consoleErrors(page);
    await page.goto(FIXTURES + path.basename(c.file, ".md") + "/");
    await expectClaims(page, c);
    expect(errors, c.file).toEqual([]);
    page.removeAllListeners("console");
  }
});

test("a swimlane has one lane per thread of its trace, and the deadlock is highlighted", async ({ page }) => {
  const c = fixtureResults().chapters.find((x) => x.file.endsWith("18-claims.md"))!;
  const f3 = claimsIn(c).find((x) => x.r.id === "F3")!.r;
  await page.goto(FIXTURES + "18-claims/");
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

test("scoreboard links land on their claims", async ({ page }) => {
  await page.goto(FIXTURES + "scoreboard/");
  const hrefs = await page.locator("a.book-score").evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
  expect(hrefs.length).toBeGreaterThan(2); // the matrix and the list
  for (const href of hrefs) {
    await page.goto(href);
    const target = page.locator(`[id="${new URL(href).hash.slice(1)}"]`);
    await expect(target).toHaveClass(/book-claim/);
    await expect(target).toBeInViewport();
  }
});

test("what changed lists the verdicts the fixture flips, and the chapter carries a banner", async ({ page }) => {
  await page.goto(FIXTURES + "changes/");
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
