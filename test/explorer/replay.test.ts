import { describe, expect, it } from "vitest";
import { check, model, replay, SharedVar, Mutex, choose, call, finding, note } from "../../lib/explorer/index.ts";
import { decodeToken, encodeToken } from "../../lib/explorer/token.ts";
import fc from "fast-check";

const racy = (extra: boolean) =>
  model("racy", () => {
    const x = new SharedVar("x", 0);
    const inc = function* () {
      const v = yield* x.read();
      yield* x.write(v + 1);
    };
    const threads: Record<string, () => Generator<any, void, unknown>> = { A: inc, B: inc };
    if (extra) threads.A = function* () { yield* x.write(100); yield* inc(); };
    return { threads, final: () => ({ x: x.peek() }) };
  });

describe("replay tokens", () => {
  it("encode/decode round-trips any decision list", () => {
    fc.assert(fc.property(fc.array(fc.nat(100_000)), (ds) => {
      expect(decodeToken(encodeToken(ds))).toEqual(ds);
    }));
  });

  it("token -> same trace twice, and the same final state as the search saw", () => {
    const r = check({ title: "lost", model: racy(false), predicate: (e) => e.final.x === 1, expect: "Sometimes" });
    const a = replay(racy(false), r.witness!.token);
    const b = replay(racy(false), r.witness!.token);
    expect(a.trace).toEqual(b.trace);
    expect(a.text).toEqual(b.text);
    expect(a.final).toEqual({ x: 1 });
    expect(a.note).toBeUndefined();
    expect(r.witness!.trace).toEqual(a.trace);
  });

  it("labels, call() frames, notes, choices and findings appear in the trace", () => {
    const m = model("labelled", () => {
      const p = new SharedVar("pte", 1);
      return {
        threads: {
          A: function* () {
            yield* call("unmap_page", function* () {
              yield* p.write(0, "clear_pte");
              note("pte cleared");
            });
            const c = yield* choose("reclaim?", ["no", "yes"]);
            if (c === "yes") finding("uaf", "page freed while mapped", { page: 1 });
          },
        },
      };
    });
    const r = check({ title: "uaf", model: m, predicate: (e) => e.has("uaf"), expect: "Sometimes" });
    const text = r.witness!.text;
    expect(text).toContain("unmap_page › clear_pte");
    expect(text).toContain("pte cleared");
    expect(text).toContain("choose(reclaim?)");
    expect(text).toContain("UAF in A");
    expect(r.witness!.findings[0]).toMatchObject({ kind: "uaf", thread: "A", data: { page: 1 } });
  });

  it("a token from a changed model continues with the default schedule and says so", () => {
    const r = check({ title: "lost", model: racy(false), predicate: (e) => e.final.x === 1, expect: "Sometimes" });
    const other = model("other", () => {
      const x = new SharedVar("x", 0);
      return { threads: { Only: function* () { yield* x.write(1); } }, final: () => ({ x: x.peek() }) };
    });
    const res = replay(other, r.witness!.token);
    expect(res.note).toMatch(/does not fit|unused/);
    expect(res.final).toEqual({ x: 1 });
    const res2 = replay(racy(true), r.witness!.token);
    expect(res2.steps).toBeGreaterThan(0);
  });

  it("rejects a malformed token with the next action", () => {
    expect(() => replay(racy(false), "nope")).toThrow(/copy the whole token/);
  });
});

describe("witness minimisation", () => {
  it("finds the minimum number of preemptions (3 for B to see 1 then 2)", () => {
    const m = model("needs two", () => {
      const x = new SharedVar("x", 0);
      const l = new Mutex("l");
      return {
        threads: {
          A: function* () { yield* x.write(1); yield* x.write(2); yield* x.write(3); },
          B: function* () { yield* l.lock(); const a = yield* x.read(); const b = yield* x.read(); if (a === 1 && b === 2) finding("saw", "saw 1 then 2"); yield* l.unlock(); },
        },
      };
    });
    const r = check({ title: "t", model: m, predicate: (e) => e.has("saw"), expect: "Never", search: { strategy: "dfs" } });
    expect(r.pass).toBe(false);
    expect(r.witness!.preemptions).toBe(3);
    expect(r.witness!.minimisation).toContain("minimum is 3");
  });
});
