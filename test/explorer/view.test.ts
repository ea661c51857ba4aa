// What a predicate sees of one execution (view.ts). The view's fields are plain values: an
// accessor would close over the execution and keep it (and its kernel) alive until the view dies,
// so a scavenge promotes every execution of a search to old space (issue 13, GC pressure).
import { expect, test } from "vitest";
import { model, SharedVar } from "../../lib/explorer/index.ts";
import { runDecisions } from "../../lib/explorer/replay.ts";
import { viewOf } from "../../lib/explorer/view.ts";

const racy = model("racy", () => {
  const x = new SharedVar("x", 0);
  const inc = function* () { const v = yield* x.read(); yield* x.write(v + 1); };
  return { threads: { A: inc, B: inc }, final: () => ({ x: x.peek() }) };
});

test("the view of an execution holds its step count as a plain value, not an accessor", () => {
  const { x } = runDecisions(racy, [], 100, false);
  const v = viewOf<{ x: number }>(x);
  const d = Object.getOwnPropertyDescriptor(v, "steps");
  expect(d).toBeDefined();
  expect(d!.get).toBeUndefined();
  expect(v.steps).toBe(x.steps);
  expect(v.steps).toBe(4);
  expect(v.final).toEqual({ x: 2 });
  expect(v.status).toBe("finished");
  expect(v.has("uaf")).toBe(false);
});

test("no own property of the view is an accessor", () => {
  const { x } = runDecisions(racy, [1, 0], 100, false);
  const v = viewOf(x);
  for (const k of Object.getOwnPropertyNames(v)) expect(Object.getOwnPropertyDescriptor(v, k)!.get, k).toBeUndefined();
});
