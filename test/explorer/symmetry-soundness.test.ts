// Symmetry reduction soundness (lib/explorer/symmetry.ts): on random symmetric programs (one body
// run by 2-3 threads, with locks, rwsems, completions, semaphores, wait queues, choose(), blocking,
// multi-object steps, ending and non-ending findings, deadlocks), the stateful search with the
// group declared reaches the same terminal outcomes modulo permutation as naive DFS, in both
// backtracking modes. Test of the test: a predicate that names a thread of the group, with the
// invariance check switched off, gets a wrong verdict (and with it on, is refused).
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { check, choose, finding, model, Mutex, Obj, SharedVar, type ExecutionView } from "../../lib/explorer/index.ts";
import { runtime } from "../../lib/explorer/context.ts";
import type { Execution } from "../../lib/explorer/execution.ts";
import { exploreDfs } from "../../lib/explorer/dfs.ts";
import { exploreStateful, mutations } from "../../lib/explorer/stateful.ts";
import type { Explore } from "../../lib/explorer/search.ts";
import type { Model } from "../../lib/explorer/model.ts";
import { statefulProgramArb, stepsOf, type Instr } from "./programs.ts";
import { symmetricModel, type SymProgram } from "./symmetric-programs.ts";

// Every mutation back off after each test (this file shares its worker with others: vitest.config.ts).
afterEach(() => {
  for (const k of Object.keys(mutations) as (keyof typeof mutations)[]) mutations[k] = false;
});

const noSpawn = (is: Instr[]) => !JSON.stringify(is).includes('"spawn"');
const size = (p: SymProgram) => stepsOf(p.body) * p.copies + (p.other ? stepsOf(p.other) : 0);
const symArb: fc.Arbitrary<SymProgram> = fc.record({
  body: statefulProgramArb.map((prog) => prog[0]),
  copies: fc.integer({ min: 2, max: 3 }),
  other: fc.option(statefulProgramArb.map((prog) => prog[1]), { nil: null }),
});

function collect(m: Model<unknown>, explore: Explore, key: (x: Execution) => string, limit: number, config = {}): { set: string[]; complete: boolean; states: number } {
  const set = new Set<string>();
  let n = 0;
  const r = explore({ model: m, config, maxSteps: 200, visit: (x) => { n++; set.add(key(x)); return true; }, outOfBudget: () => n >= limit, ran() {} });
  return { set: [...set].sort(), complete: r.complete, states: r.coverage.kind === "exhaustive" ? (r.coverage.states ?? -1) : -1 };
}

/** DFS without symmetry vs stateful with it: equal outcome sets modulo permutation. */
function compare(p: SymProgram, snapshots = false) {
  const plain = symmetricModel(p, false), sym = symmetricModel(p, true);
  const dfs = collect(plain.model, exploreDfs, plain.outcome, 20_000);
  const st = collect(sym.model, exploreStateful, sym.outcome, 50_000, { snapshots, resultsOnly: snapshots });
  return { dfs, st };
}

const prop = (runs: number, seed: number, snapshots: boolean) =>
  fc.assert(
    fc.property(symArb, (p) => {
      fc.pre(noSpawn(p.body) && (p.other === null || noSpawn(p.other)) && size(p) <= Number(process.env.EXPLORER_PROP_STEPS ?? 10));
      const { dfs, st } = compare(p, snapshots);
      if (!dfs.complete) return;
      expect(st.complete).toBe(true);
      expect(st.set).toEqual(dfs.set);
    }),
    { numRuns: Number(process.env.EXPLORER_PROP_RUNS ?? runs), seed: Number(process.env.EXPLORER_PROP_SEED ?? seed) },
  );

describe("symmetry reduction soundness (property)", () => {
  it("terminal outcomes modulo permutation == DFS", () => prop(60, 20261210, false), 240_000);
  it("with snapshot backtracking: == DFS", () => prop(40, 20261211, true), 240_000);
});

describe("symmetry reduction: reduces, and a bug in one ordering of the group is found", () => {
  // Tickets: each thread takes the next ticket under a lock; the thread holding ticket 2 finds y
  // still 0 only if it ran before both others wrote y, i.e. in one order of the group's
  // lock acquisitions, and within that, before the other two threads' writes.
  const tickets = (declare: boolean) =>
    model("tickets", () => {
      const m = new Mutex("m");
      const next = new SharedVar("next", 0), y = new SharedVar("y", 0);
      const body = function* () {
        yield* m.lock();
        const t = yield* next.read();
        yield* next.write(t + 1);
        yield* m.unlock();
        if (t === 2 && (yield* y.read()) === 0) finding("bug", "last ticket saw y == 0");
        if (t < 2) yield* y.write(1);
      };
      return { threads: { A: body, B: body, C: body }, symmetry: declare ? [["A", "B", "C"]] : undefined };
    });
  const spec = (declare: boolean) => ({ title: "bug", model: tickets(declare), predicate: (e: ExecutionView) => e.has("bug"), expect: "Sometimes" as const, search: { strategy: "stateful" as const } });

  it("Sometimes with and without symmetry, with fewer states and the groups in the coverage", () => {
    const off = check(spec(false)), on = check(spec(true));
    expect(off.observed).toBe("Sometimes");
    expect(on.observed).toBe("Sometimes");
    const states = (r: typeof on) => (r.coverage.kind === "exhaustive" ? (r.coverage.states ?? 0) : 0);
    const full = check({ ...spec(false), predicate: () => false, expect: "Never" as const });
    const reduced = check({ ...spec(true), predicate: () => false, expect: "Never" as const });
    expect(states(reduced)).toBeLessThan(states(full));
    expect(reduced.coverage).toMatchObject({ symmetry: "A, B, C (3! permutations)" });
  });
});

describe("symmetry reduction refuses what it cannot rename", () => {
  const pair = (extra: Partial<{ final: () => unknown; differ: boolean }> = {}) =>
    model("pair", () => {
      const x = new SharedVar("x", 0), z = new SharedVar("z", 0);
      const mk = (v: SharedVar<number>) => function* () { if ((yield* v.read()) === 0) finding("saw0", "read 0"); yield* x.write(1); };
      return { threads: { A: mk(x), B: mk(extra.differ ? z : x) }, symmetry: [["A", "B"]], final: extra.final };
    });
  const run = (m: Model<unknown>, predicate: (e: ExecutionView) => boolean) => check({ title: "t", model: m, predicate, expect: "Never", search: { strategy: "stateful" } });

  it("a predicate that names a thread of the group", () => {
    expect(() => run(pair(), (e) => e.findings.some((f) => f.thread === "A"))).toThrow(/different answer when the threads of A, B/);
    expect(run(pair(), (e) => e.findings.filter((f) => f.kind === "saw0").length === 2).observed).toBe("Sometimes");
  });

  it("final(), and threads whose code differs (same history, different next step)", () => {
    expect(() => run(pair({ final: () => ({}) }), () => false)).toThrow(/cannot rename what final\(\) returns/);
    expect(() => run(pair({ differ: true }), () => false)).toThrow(/threads "A" and "B" have observed the same values but are about to run different steps/);
  });
});

/** Remembers which thread (index) touched it last: a key that names a thread no history determines. */
class LastToucher extends Obj {
  private last = -1;
  private touches = 0;
  constructor() {
    super("last", "L");
  }
  stateKey(rename?: readonly number[]): string {
    return `${this.touches}:${rename && this.last >= 0 ? rename[this.last] : this.last}`;
  }
  get threadsInKey(): "renamed" {
    return "renamed";
  }
  touch() {
    return this.access<void>("touch", "w", { run: () => { this.last = runtime("touch").currentThread(); this.touches++; } });
  }
  /** Once both have touched. */
  amLast() {
    return this.access("am_last", "w", { enabled: () => this.touches === 2, run: () => this.last === runtime("am_last").currentThread() });
  }
}

describe("an object key naming a thread; the test of the test", () => {
  // An object whose key names a thread that no history determines (who touched last): renamed
  // through stateKey(rename), the outcomes match DFS. (Leaving such keys unrenamed, or storing
  // sleep sets without mapping them through the permutation, was caught by no program tried:
  // 600 random symmetric programs and this one reach the same outcomes; a thread's history
  // mostly determines what objects record about it. Both rules stay, as argued in symmetry.ts.)
  const lastModel = (declare: boolean) =>
    model("last toucher", () => {
      const L = new LastToucher();
      const body = function* () {
        yield* L.touch();
        const c = yield* choose("c", 2);
        if (yield* L.amLast()) finding("last", `chose ${c}, touched last`);
      };
      return { threads: { A: body, B: body }, symmetry: declare ? [["A", "B"]] : undefined };
    });
  const lastOutcomes = (declare: boolean, explore: Explore) => {
    const set = new Set<string>();
    explore({ model: lastModel(declare) as Model<unknown>, config: {}, maxSteps: 200, visit: (x) => { set.add(x.findings.map((f) => f.message).join()); return true; }, outOfBudget: () => false, ran() {} });
    return [...set].sort();
  };

  it("an object key naming a thread, renamed: == DFS", () => {
    const dfs = lastOutcomes(false, exploreDfs);
    expect(dfs).toEqual(["chose 0, touched last", "chose 1, touched last"]);
    expect(lastOutcomes(true, exploreStateful)).toEqual(dfs);
  });

  it("a predicate naming a thread, unchecked: the verdict differs from DFS", () => {
    const m = (declare: boolean) =>
      model("first", () => {
        const x = new SharedVar("x", 0);
        const body = function* () { if ((yield* x.read()) === 0) { yield* x.write(1); finding("first", "got there first"); } };
        return { threads: { A: body, B: body }, symmetry: declare ? [["A", "B"]] : undefined };
      });
    // "only A got there first" and "only B got there first" are both reachable; symmetry keeps one
    // of the two mirror images, so one of the two predicates loses its witness.
    const only = (who: string) => (e: ExecutionView) => e.findings.length === 1 && e.findings[0].thread === who;
    const spec = (who: string, declare: boolean, strategy: "dfs" | "stateful") => ({ title: `only ${who}`, model: m(declare), predicate: only(who), expect: "Sometimes" as const, search: { strategy } });
    for (const who of ["A", "B"]) expect(check(spec(who, false, "dfs")).observed).toBe("Sometimes");
    for (const who of ["A", "B"]) expect(() => check(spec(who, true, "stateful"))).toThrow(/different answer/);
    mutations.symmetryNoPredicateCheck = true;
    expect(["A", "B"].map((who) => check(spec(who, true, "stateful")).observed)).toContain("Never");
  });
});
