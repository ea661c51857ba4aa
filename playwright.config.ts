import os from "node:os";
import { defineConfig } from "@playwright/test";

/** Debian's Chromium, never a downloaded browser; `bash scripts/setup.sh` installs it. */
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

// The sites are served by test/site/global-setup.ts on free ports (SITE_PORT fixes them), not by
// `webServer`, whose port must be known when this file loads: a fixed one broke whenever another
// run, or anything else, held it. The flags keep Chromium off the (closed) network.
export default defineConfig({
  testDir: "test/site",
  testMatch: "*.spec.ts",
  reporter: [["list"], ["json", { outputFile: "test-results/playwright.json" }]],
  // Every test opens its own page on a static site and reads nothing another test writes, so
  // tests (not only files) spread over one worker per core; most of a test's time is Chromium
  // rendering, which one worker left to a single core.
  fullyParallel: true,
  workers: os.availableParallelism(),
  use: {
    launchOptions: {
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    },
  },
  globalSetup: "./test/site/global-setup.ts",
});
