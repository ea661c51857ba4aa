// One search for several claims (group.ts, claim.ts searchAll) must give each claim exactly what
// its own search gives: verdict, coverage, counts, stats (but ms), witness and message. Checked on
// generated programs and predicates for every strategy, and on hand-made cases where a shared
// count or an early stop would show.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  check, checkAll, claimAll, ClaimError, decide, ExplorerError, model, search, search as search_, searchAll, setClaimGate, setClaimSink, SharedVar, together,
  type ClaimResult, type ClaimSpec, type Expectation, type SearchSpec,
} from "../../lib/explorer/index.ts";
import { multiProgramArb, programArb, programModel, stepsOf, type Instr } from "./programs.ts";

type Final = { vars: number[]; regs: [string, number[]][] };
type Pred = { kind: "eq" | "lt" | "reg" | "true" | "false" | "finding"; v: number; val: number };
const predArb: fc.Arbitrary<Pred> = fc.record({ kind: fc.constantFrom("eq", "eq", "lt", "reg", "true", "false", "finding"), v: fc.nat(1), val: fc.nat(3) });
const predicate = (p: Pred) => (e: { final: Final; findings: readonly { kind: string }[] }): boolean =>
  p.kind === "eq" ? e.final.vars[p.v] === p.val
  : p.kind === "lt" ? e.final.vars[p.v] < p.val
  : p.kind === "reg" ? e.final.regs.some(([, r]) => r.includes(p.val))
  : p.kind === "finding" ? e.findings.length > 0
  : p.kind === "true";

/** A result without its wall time (the only field a shared search may change). */
// What a grouped claim shares with its claim alone: all but the time and the words that say its search was shared.
const sameAsAlone = (r: ClaimResult) => ({ ...r, stats: { ...r.stats, ms: 0 }, sharedBy: undefined, searchedEarlier: undefined });

const SEARCHES: readonly SearchSpec[] = [
  { strategy: "dfs" }, { strategy: "dpor" }, { strategy: "bounded", preemptions: 0 }, { strategy: "bounded", preemptions: 1 },
  { strategy: "random", runs: 20 }, { strategy: "pct", runs: 20 },
];

function agrees(arb: fc.Arbitrary<Instr[][]>, runs: number, seed: number): void {
  fc.assert(
    fc.property(
      arb, fc.array(fc.tuple(predArb, fc.constantFrom<Expectation>("Never", "Sometimes", "Always")), { minLength: 2, maxLength: 4 }),
      fc.constantFrom(...SEARCHES), fc.constantFrom(undefined, 3, 17), fc.boolean(),
      (prog, preds, searchSpec, executions, minimise) => {
        fc.pre(prog.reduce((n, t) => n + stepsOf(t), 0) <= 10);
        const m = programModel(prog);
        const cfg = typeof searchSpec === "string" ? { strategy: searchSpec } : { ...searchSpec, maxSteps: 200, minimise };
        const specs: ClaimSpec<Final>[] = preds.map(([p, expect], i) => ({
          id: `P${i}`, title: JSON.stringify(p), model: m, predicate: predicate(p), expect, search: cfg, ...(executions ? { budget: { executions } } : {}),
        }));
        const alone = specs.map((s) => sameAsAlone(check(s)));
        const grouped = checkAll(specs).map(sameAsAlone);
        expect(grouped).toEqual(alone);
        // The raw records too (what shards and mergeRecords see).
        const recs = searchAll(specs);
        specs.forEach((s, i) => expect({ ...recs[i], stats: { ...recs[i].stats, ms: 0 } }).toEqual({ ...search(s), stats: { ...search(s).stats, ms: 0 } }));
      },
    ),
    { numRuns: Number(process.env.EXPLORER_PROP_RUNS ?? runs), seed: Number(process.env.EXPLORER_PROP_SEED ?? seed) },
  );
}

describe("one search for several claims == one search each (property)", () => {
  it("on generated programs, for dfs, dpor, bounded, random and pct", () => agrees(programArb, 150, 20261203), 180_000);
  it("with multi-object steps", () => agrees(multiProgramArb, 60, 20261204), 180_000);
});

// Two threads each add 1 to x twice, unlocked: 70 interleavings under dfs, final x in {2, 3, 4}.
const racy = model("racy", () => {
  const x = new SharedVar("x", 0);
  const inc = function* () {
    for (let i = 0; i < 2; i++) {
      const v = yield* x.read();
      yield* x.write(v + 1);
    }
  };
  return { threads: { A: inc, B: inc }, final: () => ({ x: x.peek() }) };
});
const spec = (title: string, predicate: (e: { final: { x: number } }) => boolean, expect: Expectation, search: SearchSpec = "dfs"): ClaimSpec<{ x: number }> => ({ title, model: racy, predicate, expect, search });

describe("shared search: the cases a wrong implementation gets wrong", () => {
  const quick = spec("some run loses an update", (e) => e.final.x < 4, "Sometimes");
  const never = spec("x is never 5", (e) => e.final.x === 5, "Never");
  const always = spec("x is at least 2", (e) => e.final.x >= 2, "Always");

  it("a Never/Always claim is not cut short by a Sometimes claim decided early", () => {
    const [q, n, a] = checkAll([quick, never, always]);
    expect(q.observed).toBe("Sometimes");
    expect(n.observed).toBe("Never");
    expect(a.observed).toBe("Always");
    expect(n.stats.executions).toBe(70);
    expect(n.counts).toEqual({ true: 0, false: 70 });
    expect(sameAsAlone(n)).toEqual(sameAsAlone(check(never)));
    expect(sameAsAlone(a)).toEqual(sameAsAlone(check(always)));
  });

  it("a Sometimes claim keeps the counts, stats and coverage of the execution its own search stopped at", () => {
    const alone = check(quick);
    expect(alone.stats.executions).toBeLessThan(70);
    const [, q] = checkAll([never, quick]);
    expect(sameAsAlone(q)).toEqual(sameAsAlone(alone));
    // bounded: coverage is the level the lone search stopped at, not the bound the group reached
    const b = { ...quick, search: { strategy: "bounded", preemptions: 2 } as const };
    const soloB = check(b);
    const [, qb] = checkAll([{ ...never, search: b.search }, b]);
    expect(sameAsAlone(qb)).toEqual(sameAsAlone(soloB));
    expect(qb.coverage).toEqual({ kind: "bounded", preemptions: 1 });
  });

  it("the search stops once every claim is decided", () => {
    const other = spec("x is sometimes 3", (e) => e.final.x === 3, "Sometimes");
    const rs = searchAll([quick, other]);
    const total = Math.max(search(quick).stats.executions, search(other).stats.executions);
    expect(rs.map((r) => r.stats.executions)).toEqual([search(quick).stats.executions, search(other).stats.executions]);
    expect(Math.max(...rs.map((r) => r.stats.executions))).toBe(total);
  });

  it("executions cut at maxSteps are counted per claim up to where its own search stopped", () => {
    // A spins until B sets the flag: schedules where B runs late are cut at maxSteps.
    const spin = model("spin", () => {
      const f = new SharedVar("f", 0), y = new SharedVar("y", 0);
      return {
        threads: {
          A: function* () {
            while ((yield* f.read()) === 0) yield* y.write(1);
          },
          B: function* () {
            yield* y.write(2);
            yield* f.write(1);
          },
        },
        final: () => ({ y: y.peek() }),
      };
    });
    const search = { strategy: "dfs", maxSteps: 12 } as const;
    const some: ClaimSpec<{ y: number }> = { title: "y ends 1", model: spin, predicate: (e) => e.final.y === 1, expect: "Sometimes", search };
    const all: ClaimSpec<{ y: number }> = { title: "y is set", model: spin, predicate: (e) => e.final.y > 0, expect: "Always", search };
    const [s1, a1] = searchAll([some, all]);
    expect(a1.cut!.executions).toBeGreaterThan(s1.cut?.executions ?? 0);
    expect(s1).toEqual({ ...search_(some), stats: { ...search_(some).stats, ms: s1.stats.ms } });
    expect(a1).toEqual({ ...search_(all), stats: { ...search_(all).stats, ms: a1.stats.ms } });
  });

  it("refuses specs over different model objects or searches, naming the spec", () => {
    const other = model("racy", () => ({ threads: {} }));
    expect(() => checkAll([quick, { ...never, model: other }])).toThrow(ExplorerError);
    expect(() => checkAll([quick, { ...never, model: other }])).toThrow(/spec 1 .*x is never 5.*model object/);
    expect(() => checkAll([quick, never, { ...always, search: "dpor" }])).toThrow(/spec 2 .*same search options/);
    expect(() => checkAll([quick, { ...never, budget: { executions: 5 } }])).toThrow(/spec 1 .*budget/);
  });

  it("claimAll throws the first failing claim's error and reports nothing after it; the sink and gate see each claim", () => {
    const seen: string[] = [];
    setClaimSink((r) => seen.push(r.title));
    try {
      const wrong = { ...never, title: "x is never 3", predicate: (e: { final: { x: number } }) => e.final.x === 3 };
      let err: unknown;
      try {
        claimAll([always, wrong, never]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ClaimError);
      expect((err as ClaimError).result.title).toBe("x is never 3");
      expect((err as ClaimError).message).toBe(check(wrong).message);
      seen.length = 0;
      checkAll([always, never]);
      expect(seen).toEqual(["x is at least 2", "x is never 5"]);
      // the gate refuses the second claim: the first is reported, then the second's error
      seen.length = 0;
      setClaimGate((s) => {
        if (s.title === "x is never 5") throw new Error("refused");
      });
      expect(() => checkAll([always, never])).toThrow("refused");
      expect(seen).toEqual(["x is at least 2"]);
    } finally {
      setClaimSink(null);
      setClaimGate(null);
    }
  });

  it("together(): shares a search per model and search, keeps the order, and fails at the claim's own line", () => {
    const seen: string[] = [];
    setClaimSink((r) => seen.push(r.title));
    try {
      const rs = together((g) => {
        g.check(always);
        g.check({ ...never, search: "dpor" });
        g.check(never);
      });
      expect(rs.map((r) => r.title)).toEqual(["x is at least 2", "x is never 5", "x is never 5"]);
      expect(seen).toEqual(rs.map((r) => r.title));
      expect(sameAsAlone(rs[1])).toEqual(sameAsAlone(check({ ...never, search: "dpor" })));
      // The first and third shared one search (the page says so, and whose time it was); the second searched alone.
      expect(rs.map((r) => [r.sharedBy, r.searchedEarlier])).toEqual([[2, undefined], [undefined, undefined], [2, true]]);
      let err: Error | undefined;
      try {
        together((g) => {
          g.claim(always);
          g.claim({ ...never, predicate: (e) => e.final.x === 3 }); // THIS LINE
        });
      } catch (e) {
        err = e as Error;
      }
      expect(err).toBeInstanceOf(ClaimError);
      const line = readFileSync(new URL(import.meta.url), "utf8").split("\n").findIndex((l) => l.endsWith("// THIS LINE")) + 1;
      expect(err!.stack!.split("\n").find((l) => l.includes("group.test.ts"))).toContain(`:${line}:`);
    } finally {
      setClaimSink(null);
    }
  });

  it("a predicate that throws: the claims before it are still decided alone, and the error surfaces at its turn", () => {
    const boom = spec("throws", () => {
      throw new Error("predicate bug");
    }, "Never");
    const seen: string[] = [];
    setClaimSink((r) => seen.push(r.title));
    try {
      expect(() => checkAll([always, boom])).toThrow("predicate bug");
      expect(seen).toEqual(["x is at least 2"]);
    } finally {
      setClaimSink(null);
    }
  });

  it("a decided record is the one decide() makes of search() alone", () => {
    const rec = searchAll([quick, never])[1];
    expect(sameAsAlone(decide(never, rec))).toEqual(sameAsAlone(check(never)));
  });
});

describe("stateful claims are not grouped", () => {
  it("checkAll refuses two stateful specs; together() decides them one by one", async () => {
    const { checkAll, together } = await import("../../lib/explorer/group.ts");
    const { model, SharedVar } = await import("../../lib/explorer/index.ts");
    const m = model("two writers", () => {
      const v = new SharedVar("v", 0);
      return { threads: { A: function* () { yield* v.write(1); }, B: function* () { yield* v.write(2); } }, final: () => ({ v: v.peek() }) };
    });
    const spec = (title: string, p: (e: any) => boolean) => ({ title, model: m, predicate: p, expect: "Sometimes" as const, search: { strategy: "stateful" as const } });
    expect(() => checkAll([spec("a", (e) => e.final.v === 1), spec("b", (e) => e.final.v === 2)])).toThrow(/stateful/);
    const rs = together((g) => { g.check(spec("a", (e) => e.final.v === 1)); g.check(spec("b", (e) => e.final.v === 2)); });
    expect(rs.map((r) => r.observed)).toEqual(["Sometimes", "Sometimes"]);
  });
});
