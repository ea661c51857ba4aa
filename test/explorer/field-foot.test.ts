// Field footprints at the explorer level (effect.ts FieldRecorder, Op.split; Execution.fieldFoot;
// dpor.ts sleep records): on generated programs over one object with a few recorded fields, DPOR
// with field footprints reaches the same outcomes as naive DFS. Threads mix split steps (reads,
// writes, read-modify-writes of fields chosen by a value they read), steps that are not split, and
// blocking steps; a recorder that misses reads must make some program differ.
import { describe, expect, it } from "vitest";
import { check, model, Obj, SharedVar } from "../../lib/explorer/index.ts";
import { describeCoverage } from "../../lib/explorer/claim.ts";
import type { FieldRecorder, Model, Yieldable } from "../../lib/explorer/index.ts";
import { FIELD_MIN, MODE_READ, MODE_WRITE } from "../../lib/explorer/effect.ts";
import { Prng } from "../../lib/explorer/prng.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

class Rec implements FieldRecorder {
  cur: Map<number, number> | null = null;
  constructor(private readonly missReads: boolean) {}
  begin(): void {
    this.cur = new Map();
  }
  end(): number[] {
    const out: number[] = [];
    for (const [f, m] of this.cur ?? []) out.push(FIELD_MIN + f, m);
    this.cur = null;
    return out;
  }
  touch(i: number, m: number): void {
    if (this.cur === null || (this.missReads && m === MODE_READ)) return;
    if (m > (this.cur.get(i) ?? 0)) this.cur.set(i, m);
  }
}

/** One object, N fields; every access inside a step goes through get/set (recorded). */
class Cells extends Obj {
  readonly v: number[];
  readonly fields: Rec;
  constructor(n: number, missReads: boolean) {
    super("cells", "cells");
    this.v = new Array(n).fill(0);
    this.fields = new Rec(missReads);
  }
  get(i: number): number {
    this.fields.touch(i, MODE_READ);
    return this.v[i];
  }
  set(i: number, x: number): void {
    this.fields.touch(i, MODE_WRITE);
    this.v[i] = x;
  }
  *op<T>(label: string, split: boolean, run: () => T, enabled?: () => boolean, mode: "r" | "w" = "w"): Gen<T> {
    return yield* this.access(label, mode, { label, run, enabled, split });
  }
}

type Step = (c: Cells, t: number) => Gen<number>;
const N = 3;
function stepOf(rnd: Prng): [string, Step] {
  const i = rnd.below(N), j = rnd.below(N), kind = rnd.below(7);
  switch (kind) {
    case 0: return [`r${i}`, (c) => c.op(`r${i}`, true, () => c.get(i))];
    case 1: return [`w${i}`, (c, t) => c.op(`w${i}`, true, () => (c.set(i, t + 1), 0))];
    case 2: return [`inc${i}`, (c) => c.op(`inc${i}`, true, () => (c.set(i, c.get(i) + 1), 0))];
    // The field written depends on a value read: a record from one execution need not hold in another.
    case 3: return [`w[v${i}]`, (c, t) => c.op(`w[v${i}]`, true, () => { const k = c.get(i) % N; c.set(k, t + 5); return k; })];
    // Not split, declared read-only: must still be ordered against split writes.
    case 4: return [`R${i}`, (c) => c.op(`R${i}`, false, () => c.v[i], undefined, "r")];
    case 5: return [`W${i}+${j}`, (c, t) => c.op(`W${i}+${j}`, false, () => { c.v[i] = t + 7; c.v[j]++; return 0; })];
    default: return [`await${i}`, (c) => c.op(`await${i}`, true, () => c.v[i], () => c.v[i] !== 0)];
  }
}

function program(seed: number, missReads = false): { text: string; m: Model<unknown> } {
  const rnd = new Prng(seed);
  const nt = 2 + rnd.below(2);
  const threads: [string, Step][][] = [];
  for (let t = 0; t < nt; t++) threads.push(Array.from({ length: 1 + rnd.below(3) }, () => stepOf(rnd)));
  const text = threads.map((s, t) => `T${t}[${s.map((x) => x[0]).join(" ")}]`).join(" ");
  const m = model(`cells ${seed}`, () => {
    const c = new Cells(N, missReads);
    const out: number[][] = threads.map(() => []);
    const bodies: Record<string, () => Gen<void>> = {};
    threads.forEach((steps, t) => {
      bodies[`T${t}`] = function* () { for (const [, s] of steps) out[t].push(yield* s(c, t)); };
    });
    return { threads: bodies, final: () => JSON.stringify([c.v, out]) };
  });
  return { text, m };
}

function outcomes(m: Model<unknown>, search: { strategy: "dfs" | "dpor"; fields?: boolean }) {
  const all = new Set<string>();
  const r = check({ title: "cells", model: m, predicate: (e) => (all.add(`${String(e.final)} ${e.findings.map((f) => f.kind).join(",")}`), false), expect: "Never", search, budget: { executions: 50_000 } });
  expect(r.complete).toBe(true);
  return { all: [...all].sort(), n: r.stats.executions };
}

describe("field footprints (explorer)", () => {
  it("DPOR with field footprints reaches every outcome DFS reaches (generated programs)", () => {
    let dfsN = 0, fieldN = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const p = program(seed);
      const a = outcomes(p.m, { strategy: "dfs" }), b = outcomes(p.m, { strategy: "dpor", fields: true });
      expect(b.all, `seed ${seed}: ${p.text}`).toEqual(a.all);
      dfsN += a.n;
      fieldN += b.n;
    }
    expect(fieldN).toBeLessThan(dfsN);
  }, 120_000);

  it("a recorder that misses reads loses outcomes (the comparison can fail)", () => {
    let lost = 0;
    for (let seed = 1; seed <= 300 && lost === 0; seed++) {
      const p = program(seed), q = program(seed, true);
      if (outcomes(q.m, { strategy: "dpor", fields: true }).all.join("|") !== outcomes(p.m, { strategy: "dfs" }).all.join("|")) lost++;
    }
    expect(lost).toBeGreaterThan(0);
  }, 120_000);
});

describe("field footprints (coverage)", () => {
  it("a search over field footprints says so in its coverage, a declared one does not", () => {
    const m = model("two writes", () => {
      const x = new SharedVar("x", 0);
      return { threads: { A: function* () { yield* x.write(1); }, B: function* () { yield* x.write(2); } }, final: () => ({ x: x.peek() }) };
    });
    const f = check({ title: "fields", model: m, predicate: (e) => e.final.x === 2, expect: "Sometimes", search: { strategy: "dpor", fields: true } });
    const d = check({ title: "declared", model: m, predicate: (e) => e.final.x === 2, expect: "Sometimes", search: { strategy: "dpor" } });
    expect(f.coverage).toMatchObject({ kind: "exhaustive", reduction: "source-DPOR", footprints: "fields" });
    expect(describeCoverage(f.coverage)).toBe("exhaustive (source-DPOR, field footprints)");
    expect(d.coverage).not.toHaveProperty("footprints");
    expect(describeCoverage(d.coverage)).toBe("exhaustive (source-DPOR)");
  });
});
