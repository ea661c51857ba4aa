// A finding carries the index of the step during which it was reported: the same index as that
// step's trace event (the site highlights that event with the finding's headline).
import { expect, test } from "vitest";
import { check, finding, model, SharedVar } from "../../lib/explorer/index.ts";

test("a finding reported in a step has that step's index", () => {
  const m = model("report", () => {
    const x = new SharedVar("x", 0);
    return {
      threads: {
        A: function* () {
          yield* x.write(1);
          yield* x.write(2);
          finding("bad", "reported right after the second write");
        },
      },
    };
  });
  const r = check({ title: "bad happens", model: m, predicate: (e) => e.has("bad"), expect: "Never" });
  const w = r.witness!;
  const f = w.findings.find((x) => x.kind === "bad")!;
  const last = w.trace[w.trace.length - 1]!;
  expect(last.label).toContain("write");
  expect(f.step).toBe(last.step);
  expect(last.note).toContain("FINDING bad");
});
