// The footprint checker (footprint.ts): state guarded by checkFootprint may be touched only by a
// step that declares its object (as a write, to write it), never by another object's step or by
// thread code between steps; setup and final() may read it freely.
import { describe, expect, it } from "vitest";
import { check, model, Obj, step } from "../../lib/explorer/index.ts";
import { checkFootprint } from "../../lib/explorer/index.ts";

/** A cell whose value is guarded: every access checks the running step's footprint. */
class Cell extends Obj {
  private v = 0;
  constructor(name: string) {
    super("cell", name);
  }
  get value(): number {
    checkFootprint(this, false, "value");
    return this.v;
  }
  set value(n: number) {
    checkFootprint(this, true, "value");
    this.v = n;
  }
  *bump(also?: Cell): Generator<any, void, unknown> {
    yield* this.access("bump", "w", { run: () => { this.value++; if (also) also.value++; }, ...(also ? { also: [{ obj: also, mode: "w" as const }] } : {}) });
  }
  /** Bug under test: the step touches `other` without declaring it. */
  *bumpBoth(other: Cell): Generator<any, void, unknown> {
    yield* this.access("bumpBoth", "w", { label: `bumpBoth(${this.name}, ${other.name})`, run: () => { this.value++; other.value++; } });
  }
  *peek(): Generator<any, number, unknown> {
    return (yield* this.access("peek", "r", { run: () => this.value })) as number;
  }
  *writeInRead(): Generator<any, void, unknown> {
    yield* this.access("peek", "r", { label: `writeInRead(${this.name})`, run: () => { this.value = 7; } });
  }
}

function run(body: (a: Cell, b: Cell) => Generator<any, unknown, unknown>) {
  return check({
    title: "footprint",
    model: model("footprint", () => {
      const a = new Cell("a"), b = new Cell("b");
      a.value = 1; // setup: allowed
      return { threads: { T: () => body(a, b), U: function* () { yield* b.bump(); } }, final: () => a.value + b.value };
    }),
    predicate: () => true,
    expect: "Always",
  });
}

describe("footprint checker", () => {
  it("accepts steps that declare what they touch (primary object or Op.also), and setup/final", () => {
    const r = run(function* (a, b) { yield* a.bump(b); yield* a.peek(); yield* step("local"); });
    expect(r.observed).toBe("Always");
  });

  it("a step that writes an object missing from its footprint is an internal error naming both", () => {
    expect(() => run(function* (a, b) { yield* a.bumpBoth(b); })).toThrow(/internal: footprint: T (reads|writes) cell b \(value\) in step "bumpBoth\(a, b\)" \(footprint: a\)/);
  });

  it("a read-mode step that writes its object is caught", () => {
    expect(() => run(function* (a) { yield* a.writeInRead(); })).toThrow(/writes cell a \(value\) in step "writeInRead\(a\)".*as a write/);
  });

  it("thread code between two steps cannot read guarded state", () => {
    expect(() => run(function* (a) { yield* step("x"); return a.value; })).toThrow(/reads cell a \(value\) in thread code between two steps/);
  });
});

describe("footprint checker under snapshot backtracking", () => {
  // The checker asks the runtime for the running op; a runtime without one (the stateful
  // machine once) made every check pass silently.
  it("the stateful machine reports the running op to the checker, in run() and enabled()", async () => {
    const { currentRuntime } = await import("../../lib/explorer/context.ts");
    const { SharedVar } = await import("../../lib/explorer/index.ts");
    const seen: boolean[] = [];
    const inOp = () => seen.push((currentRuntime()?.inOp?.() ?? null) !== null);
    const r = check({
      title: "inOp",
      model: model("inOp", () => {
        const v = new SharedVar("v", 0);
        const body = (n: number) => function* () {
          yield* v.update((x) => (inOp(), x + n));
          yield { obj: v, kind: "wait", mode: "w", label: "wait", enabled: () => (inOp(), true), run: () => inOp(), also: undefined } as never;
        };
        return { threads: { A: body(1), B: body(2) }, final: () => v.peek() };
      }),
      predicate: (e) => e.final === 3,
      expect: "Always",
      search: { strategy: "stateful", snapshots: true, resultsOnly: true },
    });
    expect(r.observed).toBe("Always");
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((x) => x)).toBe(true);
  });
});
