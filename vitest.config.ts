import os from "node:os";
import { defineConfig } from "vitest/config";
import { EXPLORER_NODE_FLAGS } from "./build/src/node-flags.ts";

// `npx vitest run test/` runs the tests of lib/ and build/. Chapters are not vitest files: the
// build runs each in its own sandboxed worker (build/src/run.ts); `npm run -s chapter --
// chapters/NN-x.md [BLOCK]` runs one.

/**
 * Files that need a fresh module graph of their own. access-log.test.ts turns DPOR_RACE_LOG on
 * before it imports lib/, and race-log.ts decides once, when it loads: in a shared worker it could
 * find the log already off, or leave it on for the files after it.
 */
const ISOLATED = ["test/kernel/access-log.test.ts"];

export default defineConfig({
  test: {
    // A loaded CI machine must not fail a test by its speed: the explorer's budgets count work.
    testTimeout: 600_000,
    // One fork per core. Vitest's default leaves a core to its main process, which only
    // transforms files here (4 s of a 400 s run): on a 2-core machine that ran one file at a time.
    maxWorkers: os.availableParallelism(),
    // The forks explore as the build does: without V8's allocation-site pretenuring (node-flags.ts).
    execArgv: [...EXPLORER_NODE_FLAGS],
    // Each project names its files (a root `include` would be concatenated onto theirs).
    projects: [
      { extends: true, test: { name: "isolated", include: ISOLATED, isolate: true } },
      // The rest restore what they change (sinks, gates, tokens, env) in finally/afterEach, so a
      // fork runs file after file: no new process and no re-import of lib/ per file (~375 ms).
      { extends: true, test: { name: "shared", include: ["test/**/*.test.ts"], exclude: ISOLATED, isolate: false, setupFiles: ["test/shared-worker-guard.ts"] } },
    ],
  },
});
