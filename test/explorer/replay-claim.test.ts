// Replay mode (BOOK_REPLAY): a claim re-runs one execution from its token instead of searching.
import { afterEach, expect, test } from "vitest";
import { check, model, replay, setReplayToken, SharedVar } from "../../lib/explorer/index.ts";

const racy = model("racy", () => {
  const x = new SharedVar("x", 0);
  const inc = function* () { const v = yield* x.read(); yield* x.write(v + 1); };
  return { threads: { A: inc, B: inc }, final: () => ({ x: x.peek() }) };
});
const spec = { id: "R1", title: "lost update", model: racy, predicate: (e: { final: { x: number } }) => e.final.x !== 2, expect: "Never" as const };

afterEach(() => setReplayToken(null));

test("a replayed claim re-runs exactly its witness and never fails the block", () => {
  const searched = check(spec);
  expect(searched.observed).toBe("Sometimes");
  const token = searched.witness!.token;
  setReplayToken(token);
  const r = check(spec);
  expect(r.coverage).toEqual({ kind: "replay", token });
  expect(r.pass).toBe(true);
  expect(r.observed).toBe("Incomplete");
  expect(r.witness!.trace).toEqual(replay(racy, token).trace);
  expect(r.message).toContain("predicate holds");
});

test("with the token cleared, claims search again", () => {
  setReplayToken("v1.AAE");
  setReplayToken(null);
  expect(check(spec).coverage.kind).toBe("exhaustive");
});
