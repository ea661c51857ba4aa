import { defineConfig } from "@playwright/test";

// Debian's Chromium, never a downloaded browser. The flags keep it off the (closed) network.
const PORT = Number(process.env.SITE_PORT ?? 8765);
const FIXTURE_PORT = PORT + 1;

export default defineConfig({
  testDir: "test/site",
  testMatch: "*.spec.ts",
  reporter: [["list"], ["json", { outputFile: "test-results/playwright.json" }]],
  workers: 1,
  use: {
    baseURL: `http://127.0.0.1:${PORT}/`,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    },
  },
  globalSetup: "./test/site/global-setup.ts",
  webServer: [
    { command: `node dist/build/src/cli.js serve`, env: { PORT: String(PORT) }, url: `http://127.0.0.1:${PORT}/` },
    // The fixture book's site, built by global-setup.ts; the server reads files per request.
    { command: `node dist/build/src/cli.js serve --site-dir test-results/fixture-site`, env: { PORT: String(FIXTURE_PORT) }, url: `http://127.0.0.1:${FIXTURE_PORT}/__ready` },
  ],
});
