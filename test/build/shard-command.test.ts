// `cli.js shard` / `cli.js merge`: the merged record of every shard decides the claim as the
// unsharded run does (verdict, coverage, executions), and merge refuses an incomplete set.
import { describe, expect, it } from "vitest";
import path from "node:path";
import { exploreShard, mergeShards, type PartialRecord } from "../../build/src/shard-command.ts";
import { check } from "../../lib/explorer/index.ts";
import { counterClaim, filesystemClaim, indexerClaim } from "../../bench/explorer-claims.ts";

const MODULE = path.resolve(import.meta.dirname, "../../bench/explorer-claims.ts");

async function sharded(name: string, args: unknown[], count: number) {
  const parts: PartialRecord[] = [];
  // Through JSON, as between matrix jobs.
  for (let i = 0; i < count; i++) parts.push(JSON.parse(JSON.stringify(await exploreShard(MODULE, name, args, i, count))) as PartialRecord);
  return { parts, merged: await mergeShards(MODULE, name, args, parts) };
}

describe("shard / merge over a CI matrix", () => {
  it("DFS: the merged result equals the unsharded run (verdict, coverage, executions)", async () => {
    const one = check({ ...counterClaim(4, true, "dfs"), search: "dfs" });
    for (const count of [2, 3, 7]) {
      const { parts, merged } = await sharded("counterClaim", [4, true, "dfs"], count);
      expect(parts.every((p) => p.record.coverage.kind === "exhaustive" && p.record.coverage.shard === `${p.shard.index + 1}/${count}`)).toBe(true);
      expect([merged.observed, merged.coverage, merged.stats.executions, merged.counts]).toEqual([one.observed, one.coverage, one.stats.executions, one.counts]);
    }
  });

  it("DPOR: the merged result equals the unsharded run on the Flanagan–Godefroid benchmarks", async () => {
    for (const [name, args, spec] of [["indexerClaim", [13, "dpor"], indexerClaim(13, "dpor")], ["filesystemClaim", [18, "dpor"], filesystemClaim(18, "dpor")]] as const) {
      const one = check(spec);
      for (const count of [2, 3, 5]) {
        const { parts, merged } = await sharded(name, [...args], count);
        expect([merged.observed, merged.pass, merged.coverage, merged.stats.executions]).toEqual([one.observed, true, one.coverage, one.stats.executions]);
        // The work really is spread: no shard did everything.
        expect(Math.max(...parts.map((p) => p.record.stats.executions))).toBeLessThan(one.stats.executions);
      }
    }
  });

  it("DPOR: same verdict and coverage where shards explore some subtrees twice (every thread races at the root)", async () => {
    const cases: [[number, boolean, "dpor"], string][] = [[[5, true, "dpor"], "Never"], [[4, false, "dpor"], "Sometimes"]];
    for (const [args, expect_] of cases) {
      const one = check(counterClaim(...args));
      const { merged } = await sharded("counterClaim", [...args], 3);
      expect([merged.observed, merged.coverage]).toEqual([expect_, one.coverage]);
      expect(merged.stats.executions).toBeGreaterThanOrEqual(one.stats.executions);
    }
  });

  it("a shard alone establishes nothing; merge refuses a missing, repeated or foreign shard", async () => {
    const { parts } = await sharded("indexerClaim", [12, "dpor"], 3);
    await expect(mergeShards(MODULE, "indexerClaim", [12, "dpor"], parts.slice(0, 2))).rejects.toThrow(/shard\(s\) 3\/3 missing/);
    await expect(mergeShards(MODULE, "indexerClaim", [12, "dpor"], [...parts, parts[0]])).rejects.toThrow(/given twice/);
    await expect(mergeShards(MODULE, "indexerClaim", [13, "dpor"], parts)).rejects.toThrow(/another claim/);
    const alone = await mergeShards(MODULE, "indexerClaim", [12, "dpor"], parts);
    expect(alone.observed).toBe("Never");
  });
});
