// put_page races under field footprints: DPOR must reach every outcome DFS reaches when drops of
// one frame's references race each other, the drop that frees, a try-get (get_page_unless_zero),
// a reader of the count, an allocation that may get the freed frame, and a device reference that
// makes a free a `uaf`. A drop reads and writes the count (lib/kernel/page.ts putPage), except a
// single drop that leaves at least two references: that one is a commutative update.
//
// Why two, not "does not free" (tried in December 2026 and reverted): a drop recorded as an
// update can sleep (dpor.ts sleep sets) while another thread's drop runs and then that thread
// allocates. If that drop took the count to 1, the sleeper would now free the frame, but its
// record names only the count, so the allocation does not wake it and the run is pruned: "the
// other thread frees and gets the frame back" is lost. A reviewer found it by reading; the first
// shape below is that program, and the mutant (`dropUpdateLeaves = 1`) loses it. With two, every
// drop that takes the count to 1 or 0 is a write, which wakes the sleeper (putPage's comment).
import { describe, expect, it } from "vitest";
import { check, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { HW_GPU_PTE } from "../../lib/kernel/page.ts";

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
}

const text = (s: Shape) => `ref ${s.ref}, puts ${s.puts.join("+")}${s.dropThenAlloc ? " (the last then allocates)" : ""}${s.tryGet ? ", try-get" : ""}${s.reader ? ", reader" : ""}${s.alloc ? ", alloc" : ""}${s.hw ? ", device ref" : ""}`;

/** Mutants: `hide`, a field log that does not see the frame's count at all (FieldLog.drop);
 *  `leaves`, a drop recorded as an update when it leaves that many references (page.ts
 *  dropUpdateLeaves; 1: whenever it does not free). */
interface Mutant {
  readonly hide?: boolean;
  readonly leaves?: number;
}

function program(s: Shape, mutant: Mutant = {}) {
  const hide = mutant.hide === true;
  return model(text(s) + (hide ? " (count hidden)" : "") + (mutant.leaves === undefined ? "" : ` (drops leaving ${mutant.leaves} are updates)`), () => {
    const k = boot(ENOW);
    if (mutant.leaves !== undefined) k.mem.dropUpdateLeaves = mutant.leaves;
    const fl = k.mem.fields;
    const pfn = k.mem.allocFrame();
    k.mem.ref[pfn] = s.ref;
    if (hide && fl) fl.drop = (f) => fl.describe(f) === `frame:0:${pfn}.ref`;
    if (s.hw) k.mem.hwGet(pfn, HW_GPU_PTE);
    const seen: Record<string, unknown> = {};
    const threads: Record<string, () => Generator<unknown, void, unknown>> = {};
    s.puts.forEach((n, i) => {
      const last = i === s.puts.length - 1;
      threads[`P${i}`] = function* () {
        yield* k.mem.fieldStep(`put_page(${pfn}, ${n})`, "w", () => k.mem.putPage(pfn, n));
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

function outcomes(s: Shape, search: { strategy: "dfs" } | { strategy: "dpor"; fields: true }, mutant: Mutant = {}) {
  const seen = new Set<string>();
  const r = check({
    title: text(s), model: program(s, mutant), expect: "Never", search,
    predicate: (e) => { seen.add(JSON.stringify(e.final) + " " + e.findings.map((f) => f.kind).sort().join(",")); return false; },
  });
  expect(r.complete).toBe(true);
  return { all: [...seen].sort(), n: r.stats.executions, runs: r.stats.runs };
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
  // Counts where some drops leave two or more (updates) and the later ones do not.
  { ref: 4, puts: [1, 1, 2], dropThenAlloc: true, reader: true },
  { ref: 4, puts: [1, 1, 1, 1], dropThenAlloc: true },
  { ref: 4, puts: [1, 1, 2], tryGet: true, hw: true },
  { ref: 5, puts: [1, 1, 1, 1, 1], alloc: true },
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
    expect(outcomes(s, { strategy: "dpor", fields: true }, { hide: true }).all).not.toEqual(outcomes(s, { strategy: "dfs" }).all);
  });

  it("the comparison can fail: a drop that merely does not free, recorded as an update, loses the reviewer's program", () => {
    const s = SHAPES[0];
    const dfs = outcomes(s, { strategy: "dfs" });
    expect(outcomes(s, { strategy: "dfs" }, { leaves: 1 }).all).toEqual(dfs.all);
    expect(outcomes(s, { strategy: "dpor", fields: true }, { leaves: 1 }).all).not.toEqual(dfs.all);
  });

  it("two drops that each leave two references or more are independent: one run, where a read and write of the count takes two", () => {
    const fields = { strategy: "dpor", fields: true } as const;
    expect(outcomes({ ref: 4, puts: [1, 1] }, fields)).toMatchObject({ n: 1, runs: 1 });
    expect(outcomes({ ref: 4, puts: [1, 1] }, fields, { leaves: Infinity })).toMatchObject({ n: 2, runs: 2 });
    // The second drop leaves 1 (a write): the race is reversed, and that run is cut by the sleep
    // set (the first drop, asleep as an update, leaves 1 there: the same state). At 2 the drop
    // that frees makes the two orders differ, and both run.
    expect(outcomes({ ref: 3, puts: [1, 1] }, fields)).toMatchObject({ n: 1, runs: 2 });
    expect(outcomes({ ref: 2, puts: [1, 1] }, fields)).toMatchObject({ n: 2, runs: 2 });
  });
});
