import { describe, expect, it } from "vitest";
import { check, claim, ClaimError, model, Mutex, SharedVar, replay, Completion, choose, formatTrace } from "../../lib/explorer/index.ts";

const lostUpdate = model("unlocked counter", () => {
  const x = new SharedVar("x", 0);
  const inc = function* () {
    const v = yield* x.read();
    yield* x.write(v + 1);
  };
  return { threads: { A: inc, B: inc }, final: () => ({ x: x.peek() }) };
});

const locked = model("locked counter", () => {
  const x = new SharedVar("x", 0);
  const m = new Mutex("m");
  const inc = function* () {
    yield* m.lock();
    const v = yield* x.read();
    yield* x.write(v + 1);
    yield* m.unlock();
  };
  return { threads: { A: inc, B: inc, C: inc }, final: () => ({ x: x.peek() }) };
});

const abba = model("ABBA", () => {
  const a = new Mutex("A"), b = new Mutex("B");
  return {
    threads: {
      T1: function* () { yield* a.lock(); yield* b.lock(); yield* b.unlock(); yield* a.unlock(); },
      T2: function* () { yield* b.lock(); yield* a.lock(); yield* a.unlock(); yield* b.unlock(); },
    },
  };
});

describe("litmus", () => {
  for (const strategy of ["dpor", "dfs", "bounded"] as const) {
    it(`lost update is Sometimes (${strategy})`, () => {
      const r = claim({ id: "L1", title: "lost update", model: lostUpdate, predicate: (e) => e.final.x !== 2, expect: "Sometimes", search: { strategy } });
      expect(r.observed).toBe("Sometimes");
      expect(r.witness?.token).toMatch(/^v1\./);
    });
    it(`mutex-protected counter never loses (${strategy})`, () => {
      const r = claim({ title: "locked", model: locked, predicate: (e) => e.final.x !== 3, expect: "Never", search: { strategy } });
      expect(r.complete).toBe(true);
      expect(r.counts.true).toBe(0);
    });
    it(`ABBA deadlocks Sometimes with the cycle (${strategy})`, () => {
      const r = claim({ title: "abba", model: abba, predicate: (e) => e.has("deadlock"), expect: "Sometimes", search: { strategy } });
      const f = r.witness!.findings.find((x) => x.kind === "deadlock")!;
      expect(f.message).toContain("T1 waits for B held by T2");
      expect(f.message).toContain("T2 waits for A held by T1");
      expect(r.witness!.text).toContain("*** DEADLOCK ***");
    });
  }

  it("a claim expecting Never on the racy counter throws ClaimError with a replay token", () => {
    let err: unknown;
    try {
      claim({ id: "X", title: "racy never", model: lostUpdate, predicate: (e) => e.final.x !== 2, expect: "Never" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ClaimError);
    const msg = (err as ClaimError).message;
    expect(msg).toMatch(/replay\(model, "v1\.[A-Za-z0-9_-]*"\)/);
    expect(msg).toContain("expected Never, observed Sometimes");
    const token = (err as ClaimError).result.witness!.token;
    expect(replay(lostUpdate, token).final.x).toBe(1);
    expect((err as ClaimError).result.witness!.preemptions).toBe(1);
  });

  it("n independent threads give exactly 1 execution under DPOR", () => {
    const indep = model("independent", () => {
      const vars = [0, 1, 2, 3, 4].map((i) => new SharedVar(`v${i}`, 0));
      const threads: Record<string, () => Generator<any, void, unknown>> = {};
      vars.forEach((v, i) => (threads[`T${i}`] = function* () { yield* v.write(1); yield* v.write(2); }));
      return { threads };
    });
    const r = check({ title: "indep", model: indep, predicate: () => false, expect: "Never" });
    expect(r.stats.executions).toBe(1);
    expect(r.pass).toBe(true);
  });

  it("choose() values are explored exhaustively", () => {
    const m = model("choice", () => {
      const x = new SharedVar("x", "");
      return { threads: { A: function* () { const c = yield* choose("what?", ["p", "q", "r"]); yield* x.write(c); } }, final: () => ({ x: x.peek() }) };
    });
    for (const strategy of ["dpor", "dfs", "bounded"] as const) {
      const r = check({ title: "c", model: m, predicate: (e) => e.final.x === "r", expect: "Sometimes", search: { strategy } });
      expect(r.pass).toBe(true);
    }
  });

  it("completion: waiter blocks until signalled; missing signal is a deadlock", () => {
    const m = model("completion", () => {
      const c = new Completion("done");
      const x = new SharedVar("x", 0);
      return {
        threads: { W: function* () { yield* c.wait(); yield* x.write(1); }, S: function* () { const s = yield* choose("signal?", 2); if (s) yield* c.complete(); } },
        final: () => ({ x: x.peek() }),
      };
    });
    const r = check({ title: "c", model: m, predicate: (e) => e.has("deadlock"), expect: "Sometimes" });
    expect(r.pass).toBe(true);
    expect(r.witness!.text).toContain("nobody will release it");
  });

  it("formatTrace prints aligned lines with held locks", () => {
    const text = formatTrace(replay(locked, "v1.").trace);
    expect(text.split("\n")[0]).toMatch(/^step\s+thread\s+label\s+effect\s+held/);
    expect(text).toContain("{m}");
  });
});
