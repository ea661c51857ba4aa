// DPOR execution counts on the classic benchmarks vs the published optimal counts
// (Abdulla, Aronis, Jonsson, Sagonas, POPL'14, Table 1; see bench/explorer-models.ts).
import { describe, expect, it } from "vitest";
import { search } from "../../lib/explorer/index.ts";
import { filesystem, indexer, PUBLISHED } from "../../bench/explorer-models.ts";

describe("classic DPOR benchmarks", () => {
  for (const [name, make, n] of [["indexer", indexer, 12], ["indexer", indexer, 13], ["filesystem", filesystem, 14], ["filesystem", filesystem, 16], ["filesystem", filesystem, 18]] as const) {
    it(`${name}(${n}) explores the published number of traces`, () => {
      const m = (make as (n: number) => any)(n);
      const r = search({ title: name, model: m, predicate: () => false, expect: "Never" }, { stopEarly: false });
      expect(r.complete).toBe(true);
      expect(r.stats.executions).toBe(PUBLISHED[`${name}(${n})`]);
    }, 60_000);
  }
});
