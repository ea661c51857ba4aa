// The witness state panel's data (state.ts): snapshots recorded by replaying a token, and their
// encoding (first state in full, then per-step changes).
import { describe, expect, it } from "vitest";
import { applyChanges, check, decodeStates, diffStates, encodeStates, model, recordStates, replay, SharedVar, stateView, type StateView } from "../../lib/explorer/index.ts";

describe("state encoding", () => {
  const s0: StateView = { a: { x: { f: "1", g: "2" } }, b: { y: { h: "3" } } };
  const s1: StateView = { a: { x: { f: "1" }, z: { f: "9" } } };
  const s2: StateView = { a: { x: { f: "5" } }, c: { w: { k: "" } } };

  it("diffStates lists exactly the changed cells; applyChanges turns one state into the next", () => {
    expect(diffStates(s0, s1).sort()).toEqual([["a", "x", "g", null], ["a", "z", "f", "9"], ["b", "y", "h", null]].sort());
    expect(applyChanges(s0, diffStates(s0, s1))).toEqual(s1);
    expect(applyChanges(s1, diffStates(s1, s2))).toEqual(s2);
    expect(diffStates(s2, s2)).toEqual([]);
  });

  it("encode then decode gives every state back", () => {
    const e = encodeStates("tok", [s0, s1, s2, s2]);
    expect(e.steps).toBe(3);
    expect(e.changes[2]).toEqual([]);
    expect(decodeStates(e)).toEqual([s0, s1, s2, s2]);
    expect(decodeStates(JSON.parse(JSON.stringify(e)))).toEqual([s0, s1, s2, s2]);
  });
});

describe("recordStates", () => {
  const counter = (withView: "instance" | "setup" | "none") => model(`counter ${withView}`, () => {
    const x = new SharedVar("x", 0);
    const view = () => ({ vars: { x: { value: String(x.peek()) } } });
    if (withView === "setup") stateView(view);
    const inc = function* () {
      const v = yield* x.read();
      yield* x.write(v + 1);
    };
    return { threads: { A: inc, B: inc }, ...(withView === "instance" ? { view } : {}) };
  });

  it("takes a snapshot before step 0 and after every step, from view() or stateView()", () => {
    for (const how of ["instance", "setup"] as const) {
      const e = recordStates(counter(how), encodeTokenFor([]))!;
      const states = decodeStates(e);
      expect(states.length).toBe(5);
      // Default schedule: A reads, A writes 1, B reads, B writes 2.
      expect(states.map((s) => s["vars"]!["x"]!["value"])).toEqual(["0", "0", "1", "1", "2"]);
      expect(e.changes[1]!.filter((c) => c[0] === "vars")).toEqual([["vars", "x", "value", "1"]]);
      // The explorer's own group: who runs next and who is done.
      expect(states[0]!["threads"]!["A"]!["state"]).toBe("runnable");
      expect(states[4]!["threads"]!["B"]!["state"]).toBe("done");
    }
  });

  it("follows the token: a lost update shows x = 1 at the end", () => {
    const m = counter("instance");
    // A reads, B reads, A writes, B writes.
    const lost = recordStates(m, encodeTokenFor([0, 1, 0, 1]))!;
    const last = decodeStates(lost).at(-1)!;
    expect(last["vars"]!["x"]!["value"]).toBe("1");
  });

  it("is null for a model without a view, and leaves the execution as replay() has it", () => {
    expect(recordStates(counter("none"), encodeTokenFor([]))).toBeNull();
    const m = counter("setup");
    const t = encodeTokenFor([0, 1, 0, 1]);
    expect(decodeStates(recordStates(m, t)!).length).toBe(replay(m, t).steps + 1);
  });
});

import { encodeToken } from "../../lib/explorer/token.ts";
function encodeTokenFor(ds: number[]): string {
  return encodeToken(ds);
}

describe("a view changes no search", () => {
  it("the same executions, counts and witness with and without a registered view", () => {
    const run = (m: ReturnType<typeof model>) => check({ title: "lost update", model: m, predicate: (e) => e.steps === 4 && e.findings.length === 0, expect: "Always" });
    const views = { n: 0 };
    const viewed = model("counter viewed", () => {
      const x = new SharedVar("x", 0);
      stateView(() => { views.n++; return { v: { x: { value: String(x.peek()) } } }; });
      const inc = function* () { const v = yield* x.read(); yield* x.write(v + 1); };
      return { threads: { A: inc, B: inc } };
    });
    const plain = model("counter plain", () => {
      const x = new SharedVar("x", 0);
      const inc = function* () { const v = yield* x.read(); yield* x.write(v + 1); };
      return { threads: { A: inc, B: inc } };
    });
    const a = run(viewed), b = run(plain);
    expect(views.n).toBe(0); // never called while searching or minimising
    expect({ ...a.stats, ms: 0 }).toEqual({ ...b.stats, ms: 0 });
    expect(a.counts).toEqual(b.counts);
    expect(a.observed).toBe(b.observed);
  });
});

describe("recordStates on a long execution", () => {
  it("gives up after maxStates steps instead of snapshotting the whole replay", () => {
    const long = model("long", () => {
      const x = new SharedVar("x", 0);
      return { threads: { A: function* () { for (let i = 0; i < 50; i++) yield* x.write(i); } }, view: () => ({ v: { x: { value: String(x.peek()) } } }) };
    });
    expect(recordStates(long, encodeTokenFor([]), { maxStates: 10 })).toBeNull();
    expect(decodeStates(recordStates(long, encodeTokenFor([]), { maxStates: 50 })!).length).toBe(51);
  });
});
