/// <reference lib="dom" />
// Stepping through a witness with the machine's state (issue 16, item 2), one witness per claim
// and the scoreboard's links to a witness's first interesting step (item 5), in Chromium.
//
// The witness: C03.2-2018's first claim (i915-2018-mn vs munmap: a GUP-fast after
// invalidate_range_start installs the old page). Its state file says at which state the page
// table entry of vpn 0 first changes; the spec steps up to that row with → and checks that the
// panel shows the entry unchanged before it, and changed (or gone) and highlighted at it.

import { mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { decodeStates, type EncodedStates } from "../../lib/explorer/state.ts";
import type { Results } from "../../build/src/results.ts";

test.use({ baseURL: process.env.BOOK_SITE_URL });

const ROOT = path.resolve(import.meta.dirname, "../..");
const SHOTS = path.join(ROOT, "test-results/state");
mkdirSync(SHOTS, { recursive: true });
const results: Results = JSON.parse(readFileSync(path.join(ROOT, "results/results.json"), "utf8"));

const SLUG = "03-a-lock-around-gup";
const ANCHOR = "block-C03_2-2018-claim0";
const GROUP = "proc page table";
const encoded: EncodedStates = JSON.parse(readFileSync(path.join(ROOT, "site/traces", SLUG, `${ANCHOR}.state.json`), "utf8"));
const states = decodeStates(encoded);
const pte = (i: number) => states[i]?.[GROUP]?.["vpn 0"]?.["pte"];

/** The selected row's step, and the panel's vpn 0 row of the page table: its text and marks. */
async function shown(page: Page) {
  return page.evaluate(([anchor, group]) => {
    const w = document.getElementById(anchor!)!.querySelector(".book-witness")!;
    const sel = w.querySelector("g.sl-selected");
    const cell = w.querySelector(`.book-state section[data-group="${group}"] tr[data-object="vpn 0"] td[data-field="pte"]`);
    return {
      state: Number(sel?.getAttribute("data-state")),
      step: Number(sel?.getAttribute("data-step")),
      text: cell?.textContent ?? null,
      marked: cell ? cell.classList.contains("book-state-changed") || cell.classList.contains("book-state-gone") : false,
    };
  }, [ANCHOR, GROUP]);
}

test("a witness steps through the machine's state: the PTE changes exactly at the step that clears it", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  const requests: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(`./${SLUG}/`);
  const witness = page.locator(`#${ANCHOR} .book-witness`);
  await expect(witness).toHaveAttribute("data-states", /\.state\.json$/);
  // Loaded lazily: nothing fetched before the first click.
  expect(requests.filter((u) => u.endsWith(".state.json"))).toEqual([]);

  expect(pte(0), "the page is mapped before the witness starts").toMatch(/^pfn \d+ present/);
  const k = states.findIndex((_, i) => i > 0 && pte(i) !== pte(0));
  expect(k, "the witness changes vpn 0's PTE").toBeGreaterThan(0);
  // The row of the step that changes it (state k is the state after step k - 1).
  const rows = witness.locator("svg.swimlane g.sl-event");
  const states_ = await rows.evaluateAll((gs) => gs.map((g) => Number(g.getAttribute("data-state"))));
  const at = states_.findIndex((s) => s === k);
  expect(at, `the swimlane shows the step that changes the PTE (state ${k})`).toBeGreaterThan(0);
  // Start a few rows before it, by clicking a row's box (its label links to the source).
  const start = Math.max(0, at - 3);
  await rows.nth(start).locator("rect.sl-box").click({ position: { x: 3, y: 3 } });
  await expect(witness.locator(".book-state")).toBeVisible();
  await expect(witness.locator(".book-state")).toHaveAttribute("data-step", String(await rows.nth(start).getAttribute("data-step")));
  expect(requests.filter((u) => u.endsWith(".state.json")).length).toBe(1);
  for (let i = start; i <= at; i++) {
    const s = await shown(page);
    expect(s.state).toBe(states_[i]);
    if (i < at) {
      expect(s.text, `row ${i}: the PTE still maps the page`).toBe(pte(0));
      expect(s.marked).toBe(false);
    } else {
      // At the step that clears it: the entry changed (or is gone, struck through), and is marked.
      expect(s.text).toBe(pte(k) ?? pte(k - 1));
      expect(s.marked).toBe(true);
    }
    if (i < at) await page.keyboard.press("ArrowRight");
  }
  await page.locator(`#${ANCHOR} svg.swimlane g.sl-selected`).scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, "stepped-state-1280.png") });
  // The highlight moves back with ←, and the panel follows.
  await page.keyboard.press("ArrowLeft");
  expect((await shown(page)).state).toBe(states_[at - 1]);
  expect(await witness.locator("g.sl-selected").count()).toBe(1);
  // Only the one state file was fetched, however many steps were taken.
  expect(requests.filter((u) => u.endsWith(".state.json")).length).toBe(1);
});

test("the state panel reads in dark mode and on a phone", async ({ page }) => {
  for (const [name, width, scheme] of [["dark-1440", 1440, "slate"], ["phone-390", 390, "default"]] as const) {
    await page.setViewportSize({ width, height: 844 });
    await page.goto(`./${SLUG}/#${ANCHOR}`);
    await page.evaluate((s) => document.body.setAttribute("data-md-color-scheme", s), scheme);
    const panel = page.locator(`#${ANCHOR} .book-state`);
    await expect(panel).toBeVisible();
    await expect(panel.locator("section.book-state-group").first()).toBeVisible();
    // The panel never overflows the window: wide tables scroll inside their own box.
    const box = await panel.boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(width + 1);
    await page.screenshot({ path: path.join(SHOTS, `state-${name}.png`) });
  }
});

test("a three-lane witness with a GPU: landing on its finding shows the GPU's translation of the freed frame", async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  const anchor = "block-C03_6-2018-claim0";
  await page.goto(`./${SLUG}/#${anchor}`);
  const panel = page.locator(`#${anchor} .book-state`);
  await expect(panel).toBeVisible();
  await expect(panel.locator("section[data-group='frames']")).toBeVisible();
  await expect(panel.locator("section[data-group='threads']")).toBeVisible();
  await page.screenshot({ path: path.join(SHOTS, "three-lane-landing-1440.png") });
});

test("every claim of a block shows its own witness", async ({ page }) => {
  await page.goto(`./${SLUG}/`);
  for (const b of results.chapters.find((c) => c.file.endsWith(`${SLUG}.md`))!.blocks) {
    const claims = b.records.filter((r) => (r as { type?: string }).type === "claim") as { witness?: { token: string } }[];
    if (claims.length < 2) continue;
    for (const [i, c] of claims.entries()) {
      const el = page.locator(`#block-${b.id.replace(/[^A-Za-z0-9_-]/g, "_")}-claim${i}`);
      await expect(el).toHaveCount(1);
      if (c.witness) await expect(el.locator(".book-replay-cmd")).toContainText(c.witness.token);
      else await expect(el.locator(".book-witness")).toHaveCount(0);
    }
  }
});

test("a scoreboard verdict links to its claim's witness, opened at its first interesting step", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("./scoreboard/");
  const link = page.locator(`article a[href*="#${ANCHOR}"]`).first();
  await expect(link).toBeVisible();
  await link.click();
  await expect(page).toHaveURL(new RegExp(`#${ANCHOR}$`));
  const witness = page.locator(`#${ANCHOR} .book-witness`);
  const first = Number(await witness.getAttribute("data-first-step"));
  const sel = witness.locator("g.sl-selected");
  await expect(sel).toHaveCount(1);
  expect(Number(await sel.getAttribute("data-step"))).toBeGreaterThanOrEqual(first);
  // The first interesting step of this witness is its finding's: the row is the red one.
  await expect(sel).toHaveClass(/sl-bad/);
  await expect(witness.locator(".book-state")).toBeVisible();
  await expect(sel).toBeInViewport();
  await page.screenshot({ path: path.join(SHOTS, "scoreboard-landing-1280.png") });
});

test("state files are loaded per witness and each weighs under 1 MB", () => {
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith(".state.json") ? [path.join(dir, e.name)] : []);
  const files = walk(path.join(ROOT, "site/traces"));
  expect(files.length).toBeGreaterThan(10);
  for (const f of files) expect(statSync(f).size, f).toBeLessThan(1024 * 1024);
});

test("opened from disk (file://), the state panel says why it is empty and how to serve the site", async ({ page }) => {
  // Browsers refuse fetch() from file:// pages; a reader who opens site/ from disk must not see a bare "Failed to fetch".
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`file://${path.join(ROOT, "site", SLUG, "index.html")}#${ANCHOR}`);
  const panel = page.locator(`#${ANCHOR} .book-state`);
  await expect(panel).toBeVisible();
  await expect(panel).toContainText("npm run serve");
  await expect(panel).not.toContainText("Failed to fetch");
  // The swimlane itself still renders and steps.
  await expect(page.locator(`#${ANCHOR} svg.swimlane g.sl-selected`)).toHaveCount(1);
  await page.screenshot({ path: path.join(SHOTS, "state-from-disk-1280.png") });
});
