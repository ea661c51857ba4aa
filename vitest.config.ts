import { defineConfig } from "vitest/config";
import { bookPlugin } from "./build/src/vite-plugin.ts";

// `npx vitest chapters/03*.md` runs one chapter as tests (no type-check: `npm run build` does
// that first). `npx vitest run test/` runs the tests of lib/ and build/.
export default defineConfig({
  plugins: [bookPlugin(import.meta.dirname)],
  test: {
    include: ["test/**/*.test.ts", "chapters/*.md"],
    // Claims are bounded by their own search budgets; see build/src/run.ts.
    testTimeout: 120_000,
  },
});
