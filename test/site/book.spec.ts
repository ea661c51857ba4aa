// What a reader sees, in Debian's Chromium: the chapter list, each block's badge, a failure at
// its Markdown line, the edit link into the source chapter, and no request leaving localhost.

import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import type { Results } from "../../build/src/results.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const results: Results = JSON.parse(readFileSync(path.join(ROOT, "results/results.json"), "utf8"));
const FIXTURES = `http://127.0.0.1:${Number(process.env.SITE_PORT ?? 8765) + 1}/`;

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

for (const c of results.chapters) {
  const slug = path.basename(c.file, ".md");
  test(`${slug}: every shown block has its badge, and the edit link opens the source chapter`, async ({ page }) => {
    const external = offline(page);
    await page.goto(`./${slug}/`);
    await expect(page.locator("h1").first()).toContainText(c.title);
    for (const b of c.blocks.filter((x) => !x.flags.hidden)) {
      const badge = page.locator(`[data-block-id="${b.id}"]`);
      await expect(badge).toHaveAttribute("data-status", b.status);
      await expect(badge.locator(".book-badge")).toBeVisible();
      await expect(badge).toContainText(`${c.file}:${b.line}`);
    }
    const edit = page.locator('a[title="Edit this page"]');
    await expect(edit).toHaveAttribute("href", new RegExp(`/edit/main/${c.file.replace(/[.]/g, "\\.")}$`));
    expect(external).toEqual([]);
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

test("hidden blocks and directives do not show; fence options do not leak into the page", async ({ page }) => {
  await page.goto(FIXTURES + "00-ok/");
  await expect(page.locator('[data-block-id="hidden-check"]')).toHaveCount(0);
  const html = await page.content();
  expect(html).not.toContain("this directive never shows");
  expect(html).not.toContain("id=doubles");
  await expect(page.locator('[data-block-id="known-bug"] .book-flag')).toHaveText("expected to fail");
});
