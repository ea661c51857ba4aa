// S2: start-only subscriber re-installs a stale pfn (uaf); the interval notifier's seq fixes it.
import { describe, it } from "vitest";
import { claim } from "../../lib/explorer/index.ts";
import { E18, ENOW } from "../../lib/kernel/era.ts";
import { s2Mni, s2StartOnly } from "../../lib/kernel/s2.ts";

describe("S2 start-only subscriber", () => {
  for (const era of [E18, ENOW])
    it(`start-only-refless: uaf Sometimes (${era.name}), and stale-install`, () => {
      claim({ id: "S2", title: "GPU PTE to a freed frame", model: s2StartOnly(era, 1, 1, "dontneed"), predicate: (e) => e.has("uaf"), expect: "Sometimes" });
      claim({ title: "stale install", model: s2StartOnly(era, 1, 1, "dontneed"), predicate: (e) => e.has("stale-install"), expect: "Sometimes" });
    });
  it("mni (now): uaf Never, stale-install Never, with DONTNEED and munmap (exhaustive, 4 pages, 1 validator)", () => {
    for (const how of ["dontneed", "munmap"] as const)
      claim({ id: "S2-fixed", title: `no uaf (${how})`, model: s2Mni(ENOW, 4, 1, how), predicate: (e) => e.has("uaf") || e.has("stale-install"), expect: "Never" });
  });
  it("mni (now) with 2 concurrent validators: Never within 2 preemptions", () => {
    claim({ id: "S2-fixed-2v", title: "no uaf (2 validators)", model: s2Mni(ENOW, 4, 2, "munmap"), predicate: (e) => e.has("uaf") || e.has("stale-install"), expect: "Never", search: { strategy: "bounded", preemptions: 2 } });
  });
  it("broken mni variants flip: no read_retry -> uaf; read_retry outside the lock -> uaf + notifier-protocol", () => {
    claim({ title: "no retry", model: s2Mni(ENOW, 1, 1, "munmap", "no-retry"), predicate: (e) => e.has("uaf"), expect: "Sometimes" });
    claim({ title: "retry unlocked", model: s2Mni(ENOW, 1, 1, "munmap", "retry-unlocked"), predicate: (e) => e.has("uaf"), expect: "Sometimes" });
    claim({ title: "retry unlocked protocol", model: s2Mni(ENOW, 1, 1, "munmap", "retry-unlocked"), predicate: (e) => e.has("notifier-protocol"), expect: "Sometimes" });
  });
});
