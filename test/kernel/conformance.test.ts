// The conformance harness on a tiny interval-notifier design (correct: Never on every invariant)
// and on the same design with one line broken (each must fail its invariant).
import { describe, expect, test } from "vitest";
import { ENOW } from "../../lib/kernel/era.ts";
import type { Kernel } from "../../lib/kernel/kernel.ts";
import type { Mm } from "../../lib/kernel/mm.ts";
import { conformance, type ConformanceBuffer } from "../../lib/kernel/conformance.ts";
import { tiny } from "./tiny-design.ts";

describe("conformance harness", () => {
  test("a correct design is Never on every invariant, with labels", () => {
    const r = conformance(tiny("none"), { design: "tiny", era: ENOW, id: "T-ok" });
    expect(r.broken).toEqual([]);
    expect(r.conforms).toBe(true);
    for (const inv of ["same-lock", "install-after-retry", "idle-before-return"] as const) {
      const c = r.results[inv]!;
      expect(c.observed).toBe("Never");
      expect(c.coverage.kind).toBe("bounded");
      expect(c.labels).toEqual({ design: "tiny", era: "now", invariant: inv });
      expect(c.id).toBe("T-ok");
    }
  });

  test("no read_retry: install-after-retry is broken", () => {
    const r = conformance(tiny("no-retry"), { design: "tiny-no-retry", era: ENOW, invariants: ["install-after-retry"] });
    expect(r.broken).toEqual(["install-after-retry"]);
    expect(r.conforms).toBe(false);
  });

  test("read_retry outside the lock: same-lock is broken", () => {
    const r = conformance(tiny("retry-unlocked"), { design: "tiny-unlocked", era: ENOW, invariants: ["same-lock"] });
    expect(r.broken).toEqual(["same-lock"]);
  });

  test("callback sets the seq but leaves the device running: idle-before-return is broken", () => {
    const r = conformance(tiny("no-stop"), { design: "tiny-no-stop", era: ENOW, invariants: ["idle-before-return"] });
    expect(r.broken).toEqual(["idle-before-return"]);
  });

  // Issue 14, blind spot 1: before device accesses spanned steps, both passed every invariant.
  test("callback unmaps without waiting for the job: idle-before-return is broken (an in-flight write lands after the return)", () => {
    const r = conformance(tiny("no-wait"), { design: "tiny-no-wait", era: ENOW, invariants: ["idle-before-return"] });
    expect(r.broken).toEqual(["idle-before-return"]);
  });

  test("job pushed after notifier_lock is dropped: idle-before-return is broken (the job faults on its own userptr)", () => {
    const r = conformance(tiny("push-after-unlock"), { design: "tiny-push-after-unlock", era: ENOW, invariants: ["idle-before-return"] });
    expect(r.broken).toEqual(["idle-before-return"]);
  });

  test("a rwlock taken for write around set_seq and for read around read_retry is one lock; read on both sides is not", () => {
    expect(conformance(tiny("rwlock"), { design: "tiny-rwlock", era: ENOW, invariants: ["same-lock"] }).broken).toEqual([]);
    expect(conformance(tiny("rwlock-read-both"), { design: "tiny-rwlock-read", era: ENOW, invariants: ["same-lock"] }).broken).toEqual(["same-lock"]);
  });

  // Issue 15 item 12: (c) asked of a job that does not list the buffer, and the rest of the contract.
  test("a job that does not list the buffer: a callback that waits only for the buffer breaks idle-before-return; waiting for the VM keeps it", () => {
    expect(conformance(tiny("none"), { design: "tiny", era: ENOW, rogue: true, scenarios: ["munmap"], invariants: ["idle-before-return"] }).broken).toEqual(["idle-before-return"]);
    expect(conformance(tiny("wait-vm"), { design: "tiny-wait-vm", era: ENOW, rogue: true, scenarios: ["munmap"], invariants: ["idle-before-return"] }).broken).toEqual([]);
  });

  test("the contract: a correct design is Never on the OOM reaper's pass, set_seq and reclaim; each broken line breaks its rule", () => {
    expect(conformance(tiny("none"), { design: "tiny", era: ENOW, scenarios: ["oom"], invariants: ["nonblocking"] }).broken).toEqual([]);
    expect(conformance(tiny("none"), { design: "tiny", era: ENOW, scenarios: ["munmap"], invariants: ["set-seq", "no-reclaim-under-lock"] }).broken).toEqual([]);
    expect(conformance(tiny("blocks"), { design: "tiny-blocks", era: ENOW, scenarios: ["oom"], invariants: ["nonblocking"] }).broken).toEqual(["nonblocking"]);
    expect(conformance(tiny("skip-set-seq"), { design: "tiny-skip-set-seq", era: ENOW, scenarios: ["munmap"], invariants: ["set-seq"] }).broken).toEqual(["set-seq"]);
    expect(conformance(tiny("alloc-under-lock"), { design: "tiny-alloc-under-lock", era: ENOW, scenarios: ["munmap"], invariants: ["no-reclaim-under-lock"] }).broken).toEqual(["no-reclaim-under-lock"]);
  });

  test("rogue: true on a design without a rogue submission is refused", () => {
    const noRogue = (k: Kernel, mm: Mm): ConformanceBuffer => { const b = tiny("none")(k, mm); delete b.rogue; return b; };
    expect(() => conformance(noRogue, { design: "tiny", era: ENOW, rogue: true, scenarios: ["munmap"], invariants: ["idle-before-return"] })).toThrow(/offers no rogue submission/);
  });

  test("claim mode throws when a verdict differs from the expectation", () => {
    expect(() => conformance(tiny("no-retry"), { design: "tiny-no-retry", era: ENOW, invariants: ["install-after-retry"], mode: "claim", scenarios: ["dontneed"] })).toThrow(/expected Never, observed Sometimes/);
    const r = conformance(tiny("no-retry"), { design: "tiny-no-retry", era: ENOW, invariants: ["install-after-retry"], mode: "claim", scenarios: ["dontneed"], expect: { "install-after-retry": "Sometimes" } });
    expect(r.results["install-after-retry"]!.pass).toBe(true);
  });
});
