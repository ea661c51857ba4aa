import { describe, expect, it } from "vitest";
import { check, model, SharedVar, DeterminismError, ExplorerError, ModelError } from "../../lib/explorer/index.ts";

const spec = (body: () => void) => ({
  title: "guard",
  model: model("nondeterministic", () => {
    const x = new SharedVar("x", 0);
    return { threads: { A: function* () { yield* x.read(); body(); } } };
  }),
  predicate: () => false,
  expect: "Never" as const,
});

describe("determinism guard", () => {
  it("Math.random inside a thread is an error naming the call, the line and choose()", () => {
    expect(() => check(spec(() => Math.random()))).toThrow(DeterminismError);
    expect(() => check(spec(() => Math.random()))).toThrow(/Math\.random\(\) was called inside model code at .*guard\.test\.ts:\d+.*choose/);
  });
  it("Date.now, new Date(), setTimeout, queueMicrotask and Promise are refused", () => {
    expect(() => check(spec(() => Date.now()))).toThrow(/Date\.now\(\)/);
    expect(() => check(spec(() => new Date()))).toThrow(/new Date\(\)/);
    expect(() => check(spec(() => setTimeout(() => {}, 1)))).toThrow(/setTimeout\(\)/);
    expect(() => check(spec(() => queueMicrotask(() => {})))).toThrow(/queueMicrotask\(\)/);
    expect(() => check(spec(() => Promise.resolve(1)))).toThrow(/Promise\.resolve/);
  });
  it("globals are restored after the search, also after an error", () => {
    const r = Math.random, n = Date.now, p = Promise;
    expect(() => check(spec(() => Math.random()))).toThrow();
    expect(Math.random).toBe(r);
    expect(Date.now).toBe(n);
    expect(Promise).toBe(p);
    expect(typeof Math.random()).toBe("number");
  });
  it("new Date(fixed) is allowed", () => {
    expect(check(spec(() => new Date(0))).pass).toBe(true);
  });
  it("a thread that throws becomes a ModelError with a replay token", () => {
    expect(() => check(spec(() => { throw new TypeError("boom"); }))).toThrow(ModelError);
    expect(() => check(spec(() => { throw new TypeError("boom"); }))).toThrow(/threw in thread "A".*TypeError: boom.*replay\(model, "v1\./);
  });
  it("creating a shared object outside a model is an error with the fix", () => {
    expect(() => new SharedVar("x", 0)).toThrow(ExplorerError);
    expect(() => new SharedVar("x", 0)).toThrow(/inside the model's setup function/);
  });
});
