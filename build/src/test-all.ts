// `npm test`: the tests of lib/ and build/, then the book's build, then the Playwright specs
// against the built site. Ends with one `N passed, N failed` line covering all three.

import { spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { startVitest } from "vitest/node";
import type { Reporter, TestModule } from "vitest/node";
import { buildOnce, ROOT, type buildOptions } from "./cli.ts";
import { StageClock } from "./stage-clock.ts";

interface Count { passed: number; failed: number; skipped: number }

class Counter implements Reporter {
  count: Count = { passed: 0, failed: 0, skipped: 0 };
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<unknown>) {
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const s = t.result().state;
        if (s === "passed") this.count.passed++;
        else if (s === "failed") this.count.failed++;
        else this.count.skipped++;
      }
      // A file that failed to load has no tests to count, but it is a failure.
      if (m.errors().length > 0) this.count.failed++;
    }
    this.count.failed += unhandled.length;
  }
}

async function unitTests(): Promise<Count> {
  const counter = new Counter();
  const saved = process.exitCode;
  const vitest = await startVitest("test", [], {
    root: ROOT, watch: false, reporters: ["default", counter],
  });
  await vitest.close();
  process.exitCode = saved;
  return counter.count;
}

/** `tsc --noEmit` over everything but the chapters (the build checks those): one test. */
function typecheckAll(): Promise<Count> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json", "--noEmit"], { cwd: ROOT, stdio: "inherit" });
    p.on("close", (code) => resolve(code === 0 ? { passed: 1, failed: 0, skipped: 0 } : { passed: 0, failed: 1, skipped: 0 }));
  });
}

function playwright(): Promise<Count> {
  const json = path.join(ROOT, "test-results/playwright.json");
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(ROOT, "node_modules/@playwright/test/cli.js"), "test", "-c", "playwright.config.ts"], {
      cwd: ROOT, stdio: "inherit", env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_NAME: json },
    });
    p.on("close", async (code) => {
      try {
        const stats = JSON.parse(await readFile(json, "utf8")).stats;
        resolve({ passed: stats.expected + stats.flaky, failed: stats.unexpected + (code !== 0 && stats.unexpected === 0 ? 1 : 0), skipped: stats.skipped });
      } catch {
        resolve({ passed: 0, failed: 1, skipped: 0 }); // it did not even report: count it as one failure
      }
    });
  });
}

export async function testAll(o: ReturnType<typeof buildOptions>): Promise<number> {
  const total: Count = { passed: 0, failed: 0, skipped: 0 };
  const add = (c: Count) => { total.passed += c.passed; total.failed += c.failed; total.skipped += c.skipped; };
  const line = (c: Count) => `${c.passed} passed, ${c.failed} failed` + (c.skipped ? `, ${c.skipped} skipped` : "");

  console.log("── 0/3 type-check of lib/, build/ and test/ ──");
  const clock = new StageClock();
  const tsc = await clock.time("typecheck", typecheckAll);
  add(tsc);
  console.log(`typecheck: ${line(tsc)}`);

  // The fixture book is built once, by golden.test.ts or else by the site's global setup, and read
  // by both (test/fixture-book.ts). Emptied first: a build of an earlier run is never reused.
  process.env.FIXTURE_BOOK_DIR = path.join(ROOT, ".cache/fixture-book");
  await rm(process.env.FIXTURE_BOOK_DIR, { recursive: true, force: true });

  console.log("── 1/3 tests of lib/ and build/ ──");
  const unit = await clock.time("unit (vitest)", unitTests);
  add(unit);
  console.log(`unit: ${line(unit)}`);

  console.log("── 2/3 the book ──");
  const book: Count = (await clock.time("book", () => buildOnce(o))).totals;
  add(book);

  console.log("── 3/3 the site in Chromium ──");
  await rm(path.join(ROOT, "test-results/playwright.json"), { force: true });
  const site = await clock.time("site (Playwright)", playwright);
  add(site);
  console.log(`site: ${line(site)}`);

  console.log(clock.table());
  console.log(line(total));
  return total.failed > 0 ? 1 : 0;
}
