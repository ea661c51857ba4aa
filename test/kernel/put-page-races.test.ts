// put_page races under field footprints: DPOR must reach every outcome DFS reaches when drops of
// one frame's references race each other, the drop that frees, a try-get (get_page_unless_zero),
// a reader of the count, an allocation that may get the freed frame, and a device reference that
// makes a free a `uaf`. A single drop that does not free, and is its step's first touch of the
// count, is a commutative update of it; the drop that leaves exactly 1 names the count to DPOR,
// which wakes every sleeping update of it (lib/kernel/page.ts putPage; dpor.ts header, "Counts").
//
// Two attempts before that one were reverted (December 2026), and their counterexamples are the
// first and last shapes below:
//  - A drop that does not free, as an update and nothing more: it can sleep in DPOR's sleep set
//    while another thread's drop takes the count to 1 and that thread allocates. The sleeper would
//    now free the frame, but its record names only the count, so nothing wakes it and the run is
//    pruned: "the other thread frees and gets the frame back" is lost (a reviewer's program, the
//    first shape). Today's crossing rule is what wakes it: without it (PhysMem.dropAs "no-crossing") the
//    same shapes fail, below.
//  - Only a drop that leaves two references or more, as an update: a step may drop one frame twice
//    (tlb_flush_mmu puts every page of its gather in one step), and two drops of 4 -> 3 -> 2 made
//    one update record; the sleeper then ran at 2 -> 1 -> 0 and freed, unseen (a reviewer's program,
//    "one step drops twice"). Today only a step's first touch of a count may be an update: without
//    that rule (PhysMem.dropAs "every-touch") those shapes fail, below. That attempt was also slower: the
//    drop to 1 still raced the update before it (C03.3 54,466 -> 75,390 runs), which a drop to 1
//    recorded as an update does not.
import { describe, expect, it } from "vitest";
import { check, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { HW_GPU_PTE, type PhysMem } from "../../lib/kernel/page.ts";

interface Shape {
  /** The frame's references at the start. */
  readonly ref: number;
  /** One dropping thread per entry, dropping that many references in one put_page. */
  readonly puts: readonly number[];
  /** A thread that tries to take a reference (only if the count is not zero) and drops it again. */
  readonly tryGet?: boolean;
  /** A thread that reads the count (page_count). */
  readonly reader?: boolean;
  /** A thread that allocates a frame (it may get this one, once freed). */
  readonly alloc?: boolean;
  /** A GPU PTE references the frame until a device thread drops it: a free before that is a uaf. */
  readonly hw?: boolean;
  /** The last dropping thread allocates a frame after its drop (it may get this one back). */
  readonly dropThenAlloc?: boolean;
  /** The first dropping thread drops its references one put_page at a time, in its one step (as
   *  tlb_flush_mmu puts a gather that names a frame twice). */
  readonly oneStepEach?: boolean;
  /** The last dropping thread drops its references one put_page at a time, one step each. */
  readonly stepEach?: boolean;
}

const text = (s: Shape) => `ref ${s.ref}, puts ${s.puts.join("+")}${s.oneStepEach ? " (the first one at a time in one step)" : ""}${s.stepEach ? " (the last one step each)" : ""}${s.dropThenAlloc ? " (the last then allocates)" : ""}${s.tryGet ? ", try-get" : ""}${s.reader ? ", reader" : ""}${s.alloc ? ", alloc" : ""}${s.hw ? ", device ref" : ""}`;

/** A change to the model: the field log does not see the frame's count at all (FieldLog.drop), or
 *  putPage records drops otherwise (PhysMem.dropAs: a mutant that drops one of its two rules, or
 *  every drop a read and a write, the model before December 2026). */
type Mutant = "hide" | PhysMem["dropAs"];

function program(s: Shape, mutant?: Mutant) {
  return model(text(s) + (mutant ? ` (mutant ${mutant})` : ""), () => {
    const k = boot(ENOW);
    const fl = k.mem.fields;
    const pfn = k.mem.allocFrame();
    k.mem.ref[pfn] = s.ref;
    if (mutant === "hide" && fl) fl.drop = (f) => fl.describe(f) === `frame:0:${pfn}.ref`;
    if (mutant !== undefined && mutant !== "hide") k.mem.dropAs = mutant;
    if (s.hw) k.mem.hwGet(pfn, HW_GPU_PTE);
    const seen: Record<string, unknown> = {};
    const threads: Record<string, () => Generator<unknown, void, unknown>> = {};
    s.puts.forEach((n, i) => {
      const last = i === s.puts.length - 1;
      threads[`P${i}`] = function* () {
        if (last && s.stepEach) for (let j = 0; j < n; j++) yield* k.mem.fieldStep(`put_page(${pfn})`, "w", () => k.mem.putPage(pfn));
        else if (i === 0 && s.oneStepEach) yield* k.mem.fieldStep(`put_page(${pfn}) ×${n}`, "w", () => { for (let j = 0; j < n; j++) k.mem.putPage(pfn); });
        else yield* k.mem.fieldStep(`put_page(${pfn}, ${n})`, "w", () => k.mem.putPage(pfn, n));
        if (last && s.dropThenAlloc) seen.PA = yield* k.mem.fieldStep("alloc_page", "w", () => k.mem.allocFrame() === pfn);
      };
    });
    if (s.tryGet)
      threads.G = function* () {
        const got = yield* k.mem.fieldStep("get_page_unless_zero", "w", () => {
          if (k.mem.isFree(pfn) || k.mem.ref[pfn] === 0) return false;
          k.mem.getPage(pfn);
          return true;
        });
        seen.G = got;
        if (got) yield* k.mem.fieldStep("put_page (G)", "w", () => k.mem.putPage(pfn));
      };
    if (s.reader) threads.R = function* () { seen.R = yield* k.mem.fieldStep("page_count", "r", () => k.mem.ref[pfn]); };
    if (s.alloc) threads.A = function* () { seen.A = yield* k.mem.fieldStep("alloc_page", "w", () => k.mem.allocFrame() === pfn); };
    if (s.hw) threads.D = function* () { yield* k.mem.fieldStep("device drops its PTE", "w", () => k.mem.hwPut(pfn, HW_GPU_PTE)); };
    // In a fixed key order: the order the threads ran in must not make two outcomes differ.
    return { threads: threads as never, final: () => ({ G: seen.G, R: seen.R, A: seen.A, PA: seen.PA, ref: k.mem.ref[pfn], free: k.mem.isFree(pfn) }) };
  });
}

function outcomes(s: Shape, search: { strategy: "dfs" } | { strategy: "dpor"; fields: true }, mutant?: Mutant) {
  const seen = new Set<string>();
  const r = check({
    title: text(s), model: program(s, mutant), expect: "Never", search,
    predicate: (e) => { seen.add(JSON.stringify(e.final) + " " + e.findings.map((f) => f.kind).sort().join(",")); return false; },
  });
  expect(r.complete).toBe(true);
  return { all: [...seen].sort(), n: r.stats.executions };
}

const SHAPES: readonly Shape[] = [
  // The reviewer's program: P0 drops; P1 drops and then allocates.
  { ref: 2, puts: [1, 1], dropThenAlloc: true },
  { ref: 3, puts: [1, 1, 1], dropThenAlloc: true, reader: true },
  { ref: 3, puts: [1, 1, 1], reader: true },
  { ref: 2, puts: [1, 1], reader: true, alloc: true },
  { ref: 2, puts: [1, 1], tryGet: true, alloc: true },
  { ref: 2, puts: [1, 1], hw: true, reader: true },
  { ref: 4, puts: [1, 2, 1], tryGet: true, reader: true },
  { ref: 3, puts: [2, 1], alloc: true, hw: true },
  { ref: 3, puts: [1, 1, 1], tryGet: true, alloc: true },
  // Counts at which some drops leave two references or more and later ones do not.
  { ref: 4, puts: [1, 1, 2], dropThenAlloc: true, reader: true },
  { ref: 4, puts: [1, 1, 1, 1], dropThenAlloc: true },
  { ref: 4, puts: [1, 1, 2], tryGet: true, hw: true },
  { ref: 5, puts: [1, 1, 1, 1, 1], alloc: true },
  // The second attempt's counterexample (the header): one step drops the frame twice; the other
  // thread drops twice, one step each, and then allocates.
  { ref: 4, puts: [2, 2], oneStepEach: true, stepEach: true, dropThenAlloc: true },
  { ref: 5, puts: [2, 3], oneStepEach: true, stepEach: true, dropThenAlloc: true },
];

/** Every start count of 2 to 4, every set of drops below, and every one or two of the other threads. */
function* sweep(): Generator<Shape> {
  const extras = ["tryGet", "reader", "alloc", "hw", "dropThenAlloc"] as const;
  const picks: (readonly (typeof extras)[number][])[] = [...extras.map((e) => [e]), ...extras.flatMap((a, i) => extras.slice(i + 1).map((b) => [a, b]))];
  for (const ref of [2, 3, 4])
    for (const puts of [[1, 1], [1, 1, 1], [2, 1], [1, 1, 2]])
      for (const pick of picks) yield { ref, puts, ...Object.fromEntries(pick.map((e) => [e, true])) };
}

describe("put_page races: DPOR over field footprints as DFS", () => {
  for (const s of SHAPES)
    it(`DPOR over field footprints reaches every outcome DFS reaches: ${text(s)}`, () => {
      const dfs = outcomes(s, { strategy: "dfs" });
      // Not vacuous: the frame is freed in some schedule.
      expect(dfs.all.some((o) => o.includes('"free":true'))).toBe(true);
      expect(outcomes(s, { strategy: "dpor", fields: true }).all).toEqual(dfs.all);
    });

  it("and on every shape of a sweep (180 programs)", () => {
    let n = 0, dfsRuns = 0, dporRuns = 0;
    for (const s of sweep()) {
      const dfs = outcomes(s, { strategy: "dfs" }), dpor = outcomes(s, { strategy: "dpor", fields: true });
      expect(dpor.all, text(s)).toEqual(dfs.all);
      n++;
      dfsRuns += dfs.n;
      dporRuns += dpor.n;
    }
    expect(n).toBe(180);
    expect(dporRuns).toBeLessThan(dfsRuns);
  });

  it("the comparison can fail: with the count hidden from the field log, DPOR loses what the reader sees", () => {
    const s: Shape = { ref: 3, puts: [1, 1, 1], reader: true };
    expect(outcomes(s, { strategy: "dpor", fields: true }, "hide").all).not.toEqual(outcomes(s, { strategy: "dfs" }).all);
  });

  it("without the crossing rule, a sleeping drop frees unseen (the first attempt's loss)", () => {
    const s = SHAPES[0];
    expect(outcomes(s, { strategy: "dpor", fields: true }, "no-crossing").all).not.toEqual(outcomes(s, { strategy: "dfs" }).all);
  });

  it("with every touch of a count an update, one step's two drops make one update record (the second attempt's loss)", () => {
    const s = SHAPES[SHAPES.length - 2];
    expect(s.oneStepEach).toBe(true);
    expect(outcomes(s, { strategy: "dpor", fields: true }, "every-touch").all).not.toEqual(outcomes(s, { strategy: "dfs" }).all);
  });

  it("two drops that leave the frame referenced race no more: fewer executions than with every drop a read and write", () => {
    // ref 3, two drops (to 2 and to 1) and a reader: with the drops independent, DPOR orders only
    // the reader against each of them.
    const s: Shape = { ref: 3, puts: [1, 1], reader: true };
    const n = outcomes(s, { strategy: "dpor", fields: true }).n;
    expect(n).toBeLessThan(outcomes(s, { strategy: "dpor", fields: true }, "read-write").n);
  });
});
