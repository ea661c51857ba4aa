// DPOR's probe memo (dpor.ts feasible()): a remembered probe answer must change nothing the
// search does. On random programs the search with the memo runs exactly the same sequence of
// executions as with the memo off; and the tests can tell: a memo keyed on less than the
// probe's whole schedule (a wrong shortcut) changes that sequence, and on a fixed program it
// even loses an outcome that naive DFS reaches (DPOR ≢ DFS).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exploreDfs } from "../../lib/explorer/dfs.ts";
import { exploreDporGuards, probeKey, type ProbeKey } from "../../lib/explorer/dpor.ts";
import type { Explore } from "../../lib/explorer/search.ts";
import type { Model } from "../../lib/explorer/model.ts";
import { runLog } from "./run-log.ts";
import { blockingProgramArb, type Instr, multiProgramArb, programArb, programModel, stepsOf } from "./programs.ts";

/** DPOR with every probe re-run (no guard states, which would answer most of these programs'
 *  probes: guard-state.test.ts), its memo keyed by `key`. */
const exploreDporProbeKey = (key: ProbeKey): Explore => exploreDporGuards("probe", key);
const exploreDpor = exploreDporGuards("probe");

const explore = (m: Model<unknown>, how: Explore, limit = 30_000) => runLog(m, how, limit);

/** Memo off: every probe runs. */
const noMemo: ProbeKey = () => null;
/** Wrong: the thread asked about and the prefix before the race, without the reordered steps. */
const prefixLen = (order: readonly number[]): number => {
  let j = 0;
  while (j < order.length && order[j] === j) j++;
  return j;
};
const ignoresReordered: ProbeKey = (order, th, _s, q) => `${q}:${order.slice(0, prefixLen(order)).map((i) => th[i]).join(",")}`;
/** Wrong: only the thread asked about. */
const perThread: ProbeKey = (_o, _t, _s, q) => String(q);

const small = (prog: Instr[][]): boolean => prog.reduce((n, t) => n + stepsOf(t), 0) <= 14;

/** Does the memo keyed by `key` run exactly the executions the memo-less search runs? */
const sameRuns = (key: ProbeKey | null) => (prog: Instr[][]): boolean => {
  fc.pre(small(prog));
  const m = programModel(prog) as Model<unknown>;
  const off = explore(m, exploreDporProbeKey(noMemo));
  fc.pre(off.complete);
  const on = explore(m, key ? exploreDporProbeKey(key) : exploreDpor);
  return on.complete && JSON.stringify(on.runs) === JSON.stringify(off.runs);
};

describe("DPOR probe memo", () => {
  it.each([
    ["programs", programArb, 150],
    ["multi-object programs", multiProgramArb, 150],
    ["blocking-heavy programs", blockingProgramArb, 300],
  ] as const)("the memo changes no run (%s)", (_n, arb, runs) => {
    fc.assert(fc.property(arb, sameRuns(null)), { numRuns: Number(process.env.EXPLORER_PROP_RUNS ?? runs), seed: 20261203 });
  }, 300_000);

  it("the key is exact: two schedules get one key only if they are the same (big, negative and fractional numbers too)", () => {
    // A schedule as probeKey reads it: the thread asked about, the initial choose() values, and per
    // step its thread and choose() values. Numbers around the one-char limit and past it.
    const num = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(0xd7ff - 17, 0xd7ff - 16, 0xd7ff - 15, 0xd800, 65_535, 1e6, -1, 2.5));
    const sched = fc.record({ q: num, init: fc.array(num, { maxLength: 3 }), steps: fc.array(fc.record({ th: num, ch: fc.array(num, { maxLength: 3 }) }), { maxLength: 6 }) });
    const keyOf = (x: typeof sched extends fc.Arbitrary<infer T> ? T : never) => {
      const s = { init: x.init.map((v) => ({ v })), nodes: x.steps.map((st) => ({ choices: st.ch.map((v) => ({ v })) })), keyCodes: [] } as unknown as Parameters<typeof probeKey>[2];
      return probeKey(x.steps.map((_, i) => i), x.steps.map((st) => st.th), s, x.q);
    };
    fc.assert(fc.property(sched, sched, (a, b) => (keyOf(a) === keyOf(b)) === (JSON.stringify(a) === JSON.stringify(b))), { numRuns: 5_000, seed: 20261205 });
    // Near pairs: one number of a schedule replaced by another (where a collision would hide).
    fc.assert(fc.property(sched, fc.nat(), num, (a, at, v) => {
      const b = structuredClone(a);
      const slots: [number[] | { th: number }, number | "th"][] = [];
      slots.push([b.init, -1]);
      b.init.forEach((_, i) => slots.push([b.init, i]));
      for (const st of b.steps) {
        slots.push([st, "th"]);
        st.ch.forEach((_, i) => slots.push([st.ch, i]));
      }
      const [arr, i] = slots[at % slots.length]!;
      if (i === "th") (arr as { th: number }).th = v;
      else if (i === -1) b.q = v;
      else (arr as number[])[i] = v;
      return (keyOf(a) === keyOf(b)) === (JSON.stringify(a) === JSON.stringify(b));
    }), { numRuns: 20_000, seed: 20261205 });
    // A schedule past one chunk of char codes (4 096): the key is built in pieces, still exact.
    const long = { q: 1, init: [], steps: Array.from({ length: 3000 }, (_, i) => ({ th: i % 7, ch: [i % 3] })) };
    const tail = structuredClone(long);
    tail.steps[2999]!.ch[0] = 1;
    expect(keyOf(long).length).toBeGreaterThan(4096);
    expect(keyOf(long)).toBe(keyOf(structuredClone(long)));
    expect(keyOf(long)).not.toBe(keyOf(tail));
    // Same choices moved from one step to the next, or from the initial values to the first step.
    const one = { q: 0, init: [1], steps: [{ th: 2, ch: [3] }, { th: 4, ch: [] }] };
    expect(keyOf(one)).not.toBe(keyOf({ q: 0, init: [], steps: [{ th: 2, ch: [1, 3] }, { th: 4, ch: [] }] }));
    expect(keyOf(one)).not.toBe(keyOf({ q: 0, init: [1], steps: [{ th: 2, ch: [] }, { th: 4, ch: [3] }] }));
  });

  it("the blocking-heavy programs do probe, and answer probes from the memo", () => {
    let probes = 0, hits = 0;
    fc.assert(fc.property(blockingProgramArb, (prog) => {
      fc.pre(small(prog));
      const seen = new Set<string>();
      const counting: ProbeKey = (o, t, s, q) => {
        const key = probeKey(o, t, s, q);
        probes++;
        if (seen.has(key)) hits++;
        seen.add(key);
        return key;
      };
      explore(programModel(prog) as Model<unknown>, exploreDporProbeKey(counting), 5_000);
    }), { numRuns: 300, seed: 20261203 });
    expect(probes).toBeGreaterThan(100);
    expect(hits).toBeGreaterThan(10);
  }, 300_000);

  it.each([
    ["without the reordered steps", ignoresReordered],
    ["by the thread alone", perThread],
  ] as const)("mutation: a memo keyed %s changes the runs, and the property test finds it", (_n, key) => {
    const r = fc.check(fc.property(blockingProgramArb, sameRuns(key)), { numRuns: 300, seed: 20261203 });
    expect(r.failed).toBe(true);
  }, 300_000);

  it("mutation: the DPOR == DFS property on blocking-heavy programs fails with a memo keyed by the thread alone", () => {
    const r = fc.check(fc.property(blockingProgramArb, (prog) => {
      fc.pre(prog.reduce((n, t) => n + stepsOf(t), 0) <= 12);
      const m = programModel(prog) as Model<unknown>;
      const dfs = explore(m, exploreDfs, 5_000);
      fc.pre(dfs.complete);
      const dpor = explore(m, exploreDporProbeKey(perThread));
      return dpor.complete && JSON.stringify(dpor.outcomes) === JSON.stringify(dfs.outcomes);
    }), { numRuns: 200, seed: 20261204 });
    expect(r.failed).toBe(true);
  }, 300_000);

  // Found by fast-check: thread 0 locks M0 and then reads x under the rwsem; thread 1 takes M1,
  // then M0, and passes the gate (a blocking multi-object step); the rwsem's writer W races
  // with thread 0's read. A memo that remembers one answer per thread reuses "enabled" for a
  // blocked acquisition, stops scanning too early and never tries one order: an outcome DFS
  // reaches is lost.
  const found: Instr[][] = [
    [{ k: "lock", m: 0, body: [] }, { k: "rd", body: [{ k: "r", v: 0 }] }],
    [{ k: "lock", m: 1, body: [{ k: "lock", m: 0, body: [{ k: "gate", v: 0 }] }] }],
  ];
  it("mutation: on a fixed program that memo loses an outcome DFS reaches; the real one does not", () => {
    const m = programModel(found) as Model<unknown>;
    const dfs = explore(m, exploreDfs, 5_000);
    expect(dfs.complete).toBe(true);
    const right = explore(m, exploreDpor);
    expect(right.outcomes).toEqual(dfs.outcomes);
    const wrong = explore(m, exploreDporProbeKey(perThread));
    expect(wrong.outcomes).not.toEqual(dfs.outcomes);
  });
});
