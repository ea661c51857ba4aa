// The V8 flags every process that explores claims runs with: package.json's scripts put
// WORKER_NODE_FLAGS on node's command line (V8 flags are per process, so they reach the chapter
// workers and the work-stealing workers), vitest.config.ts gives EXPLORER_NODE_FLAGS to its forks,
// and the build's own child processes (diff's base build, bench's builds) inherit
// process.execArgv. test/build/node-flags.test.ts checks all three.
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

// --single-threaded-gc, for the processes that explore in several worker threads at once (the npm
// scripts: the build's chapter workers, the bench's and a shard's work-stealing workers). A young
// collection otherwise splits its work over V8's helper threads, which all isolates of a process
// share; with a chapter worker per core, a collection in one worker waited for helpers that had to
// take the core of the other, busy, worker. One collector thread per isolate: the cold book's run
// stage on 2 cores, six pairs of runs back to back (December 2026; this machine's speed drifts by
// a quarter within minutes, so read the pairs, not the columns), without -> with it: 101 -> 80,
// 94 -> 85, 105 -> 84, 101 -> 102, 91 -> 99, 110 -> 83 s; mean 100 -> 89 s. In the last pair the
// workers' young collections paused 20.8 s without it and 16.7 s with it, the same 4 880
// collections; the rest of the difference is helper threads taking the other worker's core. Turning
// off every background thread (--single-threaded, which also stops compiling in the background)
// was no better: 100 s. vitest's forks are processes of their own and do not take it: three
// heavy test files in two forks, alternating, took 62, 67, 60 s with it and 54, 72, 56 s without.
export const WORKER_NODE_FLAGS: readonly string[] = Object.freeze([...EXPLORER_NODE_FLAGS, "--single-threaded-gc"]);
