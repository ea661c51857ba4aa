/// <reference lib="dom" />
// Every step links to its code (issue 16, item 3): a swimlane label opens the generated source
// page of lib/ at the line of the model function that produced it, and the machine's reference
// (lib/kernel/README*.md, and the index of kernel functions generated from the code) is on the site.

import { expect, test } from "@playwright/test";

// The book's site, on the free port global-setup.ts chose.
test.use({ baseURL: process.env.BOOK_SITE_URL });

test("a swimlane label links to the model function's line on the source page", async ({ page }) => {
  await page.goto("./03-a-lock-around-gup/");
  const label = page.locator('.book-claim[data-claim-id="C03.6-2018"] svg.swimlane a.sl-src', { hasText: "mmap_read_lock(proc)" }).first();
  const href = await label.getAttribute("href");
  expect(href).toMatch(/^\.\.\/src\/lib\/kernel\/mm\.ts\/#L\d+$/);
  await label.click();
  await expect(page).toHaveURL(/\/src\/lib\/kernel\/mm\.ts\/#L\d+$/);
  const line = page.locator(`[id="${new URL(page.url()).hash.slice(1)}"]`);
  await expect(line).toContainText("export function mmap_read_lock(");
  await expect(line).toBeInViewport();
  // The page names what the file models in the kernel, from lib/kernel/README.md's table.
  await expect(page.locator("article table").first()).toContainText("mmap_lock.h");
});

test("the machine's reference: the README's simplifications, the devices, and every kernel function with its source line", async ({ page }) => {
  await page.goto("./reference/");
  await expect(page.locator("article h2", { hasText: "Simplifications and which way they err" })).toBeVisible();
  await page.goto("./reference/devices/");
  await expect(page.locator("article h1")).toBeVisible();
  await page.goto("./reference/functions/");
  const row = page.locator("article tr", { hasText: "mmu_notifier_invalidate_range_start" }).first();
  await row.locator("a").click();
  await expect(page).toHaveURL(/\/src\/lib\/kernel\/mmu-notifier\.ts\/#L\d+$/);
  await expect(page.locator(`[id="${new URL(page.url()).hash.slice(1)}"]`)).toContainText("mmu_notifier_invalidate_range_start");
});
