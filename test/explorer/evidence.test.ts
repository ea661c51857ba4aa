// A claim's evidence is checked before its search and carried into its result; a malformed
// record fails at once, saying what is wrong.

import { describe, expect, test } from "vitest";
import { check, model, SharedVar, setClaimGate, validateEvidence } from "../../lib/explorer/index.ts";

const tiny = model("tiny", () => {
  const x = new SharedVar("x", 0);
  return { threads: { A: function* () { yield* x.write(1); } }, final: () => ({ x: x.peek() }) };
});
const spec = { id: "E1", title: "x ends at 1", model: tiny, predicate: (e: { final: { x: number } }) => e.final.x === 1, expect: "Always" as const };
const good = { kernels: ["v4.16", "v6.18"], commits: [{ id: "aa56a292ce62", title: "drm/i915/userptr: Acquire the page lock around set_page_dirty()" }] };

describe("validateEvidence", () => {
  test("accepts kernels with commits, or with files read", () => {
    expect(() => validateEvidence(good, "E1")).not.toThrow();
    expect(() => validateEvidence({ kernels: ["v6.6"], analysis: ["mm/gup.c", "drivers/gpu/drm/amd/amdgpu/amdgpu_hmm.c"] }, "E1")).not.toThrow();
  });
  test.each([
    [{}, /needs kernels/],
    [{ kernels: [] , analysis: ["mm/gup.c"] }, /needs kernels/],
    [{ kernels: ["4.16"], analysis: ["mm/gup.c"] }, /kernel "4.16" is not a version/],
    [{ kernels: ["v6.6-rc1"], analysis: ["mm/gup.c"] }, /not a version/],
    [{ kernels: ["v6.6", "v6.6"], analysis: ["mm/gup.c"] }, /twice/],
    [{ kernels: ["v6.6"] }, /neither a commit nor a file/],
    [{ kernels: ["v6.6"], commits: [], analysis: [] }, /neither a commit nor a file/],
    [{ kernels: ["v6.6"], commits: [{ id: "aa56a292ce6", title: "t" }] }, /"aa56a292ce6" is not 12 lower-case hex/],
    [{ kernels: ["v6.6"], commits: [{ id: "AA56A292CE62", title: "t" }] }, /not 12 lower-case hex/],
    [{ kernels: ["v6.6"], commits: [{ id: "aa56a292ce62", title: " " }] }, /needs its title/],
    [{ kernels: ["v6.6"], analysis: ["mm/gup.c and more"] }, /not a path/],
    [{ kernels: ["v6.6"], analysis: ["mm/gup.c"], kernel: "v4.16" }, /unknown field "kernel"/],
  ])("refuses %j", (ev, why) => {
    expect(() => validateEvidence(ev, "E1")).toThrow(why);
    expect(() => validateEvidence(ev, "E1")).toThrow(/^E1: evidence .*Write evidence: \{ kernels/);
  });
});

describe("a claim's evidence", () => {
  test("is carried into the result, as a copy", () => {
    const r = check({ ...spec, evidence: good });
    expect(r.evidence).toEqual(good);
    expect(r.evidence).not.toBe(good);
    expect(check(spec).evidence).toBeUndefined();
  });
  test("a malformed one fails before the search", () => {
    let evaluated = 0;
    expect(() => check({ ...spec, predicate: () => (evaluated++, true), evidence: { kernels: ["v4.16"] } })).toThrow(/E1: evidence names neither/);
    expect(evaluated).toBe(0);
  });
  test("the gate sees every spec first and can refuse it", () => {
    setClaimGate((s) => { if (s.labels?.era && !s.evidence) throw new Error(`no evidence for ${s.id}`); });
    try {
      expect(() => check({ ...spec, labels: { era: "now" } })).toThrow("no evidence for E1");
      expect(check({ ...spec, labels: { era: "now" }, evidence: good }).pass).toBe(true);
      expect(check(spec).pass).toBe(true);
    } finally {
      setClaimGate(null);
    }
  });
});
