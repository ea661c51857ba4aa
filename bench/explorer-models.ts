// Classic DPOR benchmark programs, shared by test/explorer and bench/explorer.ts.
//
// Flanagan & Godefroid, "Dynamic Partial-Order Reduction for Model Checking
// Software", POPL'05, Fig. 6 (file system) and Fig. 7 (indexer); the same programs,
// with the same constants, are Table 1 of Abdulla et al., POPL'14 (and JACM'17).
// The number of Mazurkiewicz traces (what optimal DPOR explores) is
//   indexer(N):    8^(N-11) for N >= 12   (12: 8, 13: 64, 14: 512, 15: 4096)
//   filesystem(N): 2^(N-13) for N >= 14   (14: 2, 16: 8, 18: 32, 19: 64)
// These are the published optimal/source-DPOR counts of that table.

import { model, Mutex, SharedVar, spawn, type Model } from "../lib/explorer/index.ts";

/**
 * Trace counts of the other benchmarks, from the naive trace counter (test/explorer/traces.ts: every
 * interleaving, each reduced to its Mazurkiewicz trace; optimal.test.ts recounts the small ones):
 *   lastzero(n) = (n + 3) * 2^(n-1): counted for n = 3, 4, 5 (5: 3 487 880 interleavings, 8 min);
 *     the same with its workers spawned by two threads (lastzero(n, true)): counted for n = 3 and 4
 *     (4: 1 823 244 interleavings), 5 and 6 by source-DPOR's complete executions;
 *     6 by the formula, which source-DPOR's complete executions (at least one per trace) reproduce;
 *   racy counter(n) = (n!)^2 (each thread's read and write, ordered against every other's);
 *   locked counter(n) = n! (the order of the critical sections).
 */
export const COUNTED: Record<string, number> = {
  "lastzero(3)": 12, "lastzero(4)": 28, "lastzero(5)": 64, "lastzero(6)": 144,
  "spawned lastzero(3)": 12, "spawned lastzero(4)": 28, "spawned lastzero(5)": 64, "spawned lastzero(6)": 144,
  "racy counter(3)": 36, "racy counter(4)": 576, "locked counter(3)": 6, "locked counter(4)": 24, "locked counter(5)": 120,
};

export const PUBLISHED: Record<string, number> = {
  "indexer(12)": 8, "indexer(13)": 64, "indexer(14)": 512, "indexer(15)": 4096,
  "filesystem(14)": 2, "filesystem(16)": 8, "filesystem(18)": 32, "filesystem(19)": 64,
};

// The threads are module-level functions called from arrows: a `function*` made in a model's setup
// is made again for every execution (lib/kernel/README.md, "No generator functions made per execution").
// The arrows are entries of an object built at once, never assigned to its properties one by one:
// V8 allocates a function literal assigned straight to a property in the old generation
// (lib/kernel/README.md, "No function literal assigned straight to a property").

const INDEXER_SIZE = 128, INDEXER_MAX = 4;
/** indexer's thread tid: insert its 4 messages with CAS, probing linearly on collisions. */
function* indexerThread(table: readonly SharedVar<number>[], tid: number): Generator<any, void, unknown> {
  for (let m = 0; m < INDEXER_MAX; m++) {
    const w = (m + 1) * 11 + tid;
    let h = (w * 7) % INDEXER_SIZE;
    // cas(&table[h], 0, w): an atomic read-modify-write
    while ((yield* table[h].update((old) => (old === 0 ? w : old), "cas")) !== 0) h = (h + 1) % INDEXER_SIZE;
  }
}
/** Threads insert 4 messages each into a shared hash table with CAS; collisions from 12 threads up. */
export function indexer(n: number): Model<{ filled: number }> {
  return model(`indexer(${n})`, () => {
    const table = Array.from({ length: INDEXER_SIZE }, (_, i) => new SharedVar(`table[${i}]`, 0));
    const threads = Object.fromEntries(Array.from({ length: n }, (_, tid) => [`T${tid}`, () => indexerThread(table, tid)]));
    return { threads, final: () => ({ filled: table.filter((t) => t.peek() !== 0).length }) };
  });
}

const FS_NUMBLOCKS = 26, FS_NUMINODE = 32;
interface Fs { locki: Mutex[]; inode: SharedVar<number>[]; lockb: Mutex[]; busy: SharedVar<boolean>[] }
/** filesystem's thread tid: allocate a free block for inode tid mod 32 under the block locks. */
function* filesystemThread(fs: Fs, tid: number): Generator<any, void, unknown> {
  const { locki, inode, lockb, busy } = fs;
  const i = tid % FS_NUMINODE;
  yield* locki[i].lock();
  if ((yield* inode[i].read()) === 0) {
    let b = (i * 2) % FS_NUMBLOCKS;
    for (;;) {
      yield* lockb[b].lock();
      if (!(yield* busy[b].read())) {
        yield* busy[b].write(true);
        yield* inode[i].write(b + 1);
        yield* lockb[b].unlock();
        break;
      }
      yield* lockb[b].unlock();
      b = (b + 1) % FS_NUMBLOCKS;
    }
  }
  yield* locki[i].unlock();
}
/** Threads allocate a block for their inode, scanning blocks under per-block locks. */
export function filesystem(n: number): Model<{ inodes: number[] }> {
  return model(`filesystem(${n})`, () => {
    const fs: Fs = {
      locki: Array.from({ length: FS_NUMINODE }, (_, i) => new Mutex(`locki[${i}]`)),
      inode: Array.from({ length: FS_NUMINODE }, (_, i) => new SharedVar(`inode[${i}]`, 0)),
      lockb: Array.from({ length: FS_NUMBLOCKS }, (_, i) => new Mutex(`lockb[${i}]`)),
      busy: Array.from({ length: FS_NUMBLOCKS }, (_, i) => new SharedVar(`busy[${i}]`, false)),
    };
    const inode = fs.inode;
    const threads = Object.fromEntries(Array.from({ length: n }, (_, tid) => [`T${tid}`, () => filesystemThread(fs, tid)]));
    return { threads, final: () => ({ inodes: inode.map((x) => x.peek()) }) };
  });
}

/** counter's thread: `x = x + 1`, under m when `locked`. */
function* counterThread(x: SharedVar<number>, m: Mutex, locked: boolean): Generator<any, void, unknown> {
  if (locked) yield* m.lock();
  const v = yield* x.read();
  yield* x.write(v + 1);
  if (locked) yield* m.unlock();
}
/** n threads, each doing `inc` on one shared counter (no lock): n! orders of read/write. */
export function counter(n: number, locked: boolean): Model<{ x: number }> {
  return model(`${locked ? "locked" : "racy"} counter(${n})`, () => {
    const x = new SharedVar("x", 0);
    const m = new Mutex("m");
    const threads = Object.fromEntries(Array.from({ length: n }, (_, t) => [`T${t}`, () => counterThread(x, m, locked)]));
    return { threads, final: () => ({ x: x.peek() }) };
  });
}

/** lastzero's thread 0: scan array[n..0] down to the last zero. */
function* lastzeroScan(a: readonly SharedVar<number>[], n: number, out: { found: number }): Generator<any, void, unknown> {
  let i = n;
  while ((yield* a[i].read()) !== 0) i--;
  out.found = i;
}
/** lastzero's worker j: array[j] = array[j-1] + 1. */
function* lastzeroWorker(a: readonly SharedVar<number>[], j: number): Generator<any, void, unknown> {
  const v = yield* a[j - 1].read();
  yield* a[j].write(v + 1);
}
/** A spawner of lastzero's workers first, first + spawners, … */
function* lastzeroSpawner(a: readonly SharedVar<number>[], n: number, first: number, spawners: number): Generator<any, void, unknown> {
  for (let j = first; j <= n; j += spawners) yield* spawn(`T${j}`, () => lastzeroWorker(a, j));
}
/**
 * lastzero(n) (Abdulla et al., POPL'14 and JACM'17, Table 1): thread 0 scans array[n..0] down to
 * the last zero; thread j (1..n) sets array[j] = array[j-1] + 1. Source-DPOR starts runs that
 * sleep sets cut short here; optimal DPOR does not. `spawned`: the workers are spawned, worker j
 * by thread S((j - 1) mod spawners + 1) (optimal DPOR names them by creation path). `order`: the
 * order in which the workers are declared (their thread indices), which changes no trace.
 */
export function lastzero(n: number, spawned = false, spawners = 2, order = Array.from({ length: n }, (_, i) => i + 1)): Model<{ found: number }> {
  return model(`${spawned ? "spawned " : ""}lastzero(${n})${order.some((j, i) => j !== i + 1) ? ` declared ${order.join(",")}` : ""}`, () => {
    const a = Array.from({ length: n + 1 }, (_, i) => new SharedVar(`array[${i}]`, 0));
    const out = { found: -1 };
    // Spawners that deal the workers round-robin (two: odd and even ones): a spawn commutes with
    // everything but its child's steps, so the traces are lastzero(n)'s, and the order of the
    // spawns (hence the workers' thread indices) differs between executions of one trace.
    const others: [string, () => Generator<any, void, unknown>][] = spawned
      ? Array.from({ length: spawners }, (_, i) => [`S${i + 1}`, () => lastzeroSpawner(a, n, i + 1, spawners)])
      : order.map((j) => [`T${j}`, () => lastzeroWorker(a, j)]);
    const threads = Object.fromEntries([["T0", () => lastzeroScan(a, n, out)], ...others]);
    return { threads, final: () => ({ found: out.found }) };
  });
}
