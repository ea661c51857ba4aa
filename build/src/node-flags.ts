// The V8 flags every process that explores claims runs with: package.json's scripts put them on
// node's command line (V8 flags are per process, so they reach the chapter workers and the work-
// stealing workers), vitest.config.ts gives them to its forks, and the build's own child processes
// (diff's base build, bench's builds) inherit process.execArgv. test/build/node-flags.test.ts
// checks all three.
//
// --no-allocation-site-pretenuring: V8 watches each allocation site and, when the objects it made
// were all still alive at a young-generation collection, allocates the site's objects in the old
// generation from then on. A kernel is booted for every execution, and at any collection the
// running execution's boot objects are alive, so V8 pretenured the boot sites of the kernel model;
// every execution's kernel then lived in the old generation, and what it pointed to in the young
// one survived each collection through it and was promoted too: about 2 MB a collection, 1.6 GB
// over S2's exhaustive search over field footprints, collected only by full collections. Without
// pretenuring (node 20, one run each, back to back): S2 with 2 validators 6.6 -> 4.9 s (CPU 9.1 ->
// 5.8 s), over field footprints 14.1 -> 9.7 s (CPU 19.0 -> 11.0 s); the cold book 59.6 -> 56.4 s.
// A V8 flag changes speed only: budgets count executions and steps.
export const EXPLORER_NODE_FLAGS: readonly string[] = Object.freeze(["--no-allocation-site-pretenuring"]);
