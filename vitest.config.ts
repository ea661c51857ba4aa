import { defineConfig } from "vitest/config";

// `npx vitest run test/` runs the tests of lib/ and build/. Chapters are not vitest files: the
// build runs each in its own sandboxed worker (build/src/run.ts); `npm run -s chapter --
// chapters/NN-x.md [BLOCK]` runs one.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // A loaded CI machine must not fail a test by its speed: the explorer's budgets count work.
    testTimeout: 600_000,
  },
});
