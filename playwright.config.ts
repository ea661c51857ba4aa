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
  workers: 1,
  use: {
    launchOptions: {
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    },
  },
  globalSetup: "./test/site/global-setup.ts",
});
