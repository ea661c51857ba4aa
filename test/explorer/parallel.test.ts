// Worker threads need compiled JavaScript (Node 20 cannot load .ts in a worker),
// so this test compiles the explorer and the bench claims to a temp dir first.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { search } from "../../lib/explorer/index.ts";
import { counterClaim } from "../../bench/explorer-claims.ts";
import { COUNTED, PUBLISHED } from "../../bench/explorer-models.ts";

const root = resolve(import.meta.dirname, "../..");

describe("exploreParallel (worker threads)", () => {
  it("merged result equals the sequential one", async () => {
    const out = mkdtempSync(join(tmpdir(), "explorer-par-"));
    execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "--ignoreConfig", "--outDir", out, "--rootDir", root,
      "--module", "NodeNext", "--moduleResolution", "NodeNext", "--target", "ES2022", "--lib", "ES2023", "--types", "node",
      "--allowImportingTsExtensions", "--rewriteRelativeImportExtensions", "--verbatimModuleSyntax", "--strict", "--skipLibCheck",
      join(root, "lib/explorer/parallel.ts"), join(root, "bench/explorer-claims.ts")], { cwd: root });
    writeFileSync(join(out, "package.json"), '{"type":"module"}');
    const { exploreParallel, closeWorkers } = (await import(pathToFileURL(join(out, "lib/explorer/parallel.js")).href)) as typeof import("../../lib/explorer/parallel.ts");
    const url = pathToFileURL(join(out, "bench/explorer-claims.js"));
    const seq = search(counterClaim(5, true, "dfs"), { stopEarly: false });
    const par = await exploreParallel({ module: url, export: "counterClaim", args: [5, true, "dfs"], workers: 2, shards: 6 });
    expect(par.stats.executions).toBe(seq.stats.executions);
    expect(par.observed).toBe("Never");
    expect(par.pass).toBe(true);
    expect(par.parts).toHaveLength(6);
    const racy = await exploreParallel({ module: url, export: "counterClaim", args: [4, false, "dpor"], workers: 2 });
    expect(racy.observed).toBe("Sometimes");
    expect(racy.witness?.token).toMatch(/^v1\./);
    await expect(exploreParallel({ module: url, export: "nope", workers: 1 })).rejects.toThrow(/has no export "nope"/);
    // idle workers are reused by the next call, and can be closed
    const again = await exploreParallel({ module: url, export: "counterClaim", args: [4, true, "dfs"], workers: 2, shards: 4 });
    expect(again.stats.executions).toBe(search(counterClaim(4, true, "dfs"), { stopEarly: false }).stats.executions);
    // DPOR: work stealing (steal.ts). Same verdict as the sequential search. Its count depends
    // on which worker asks first, so it is checked against bounds that do not: at least one
    // execution per Mazurkiewicz trace (any sound search; the known counts, bench/explorer-models.ts)
    // and, the units being disjoint subtrees, never more than naive DFS (where DFS is small).
    for (const [name, args, traces] of [["indexerClaim", [13, "dpor"], PUBLISHED["indexer(13)"]], ["filesystemClaim", [16, "dpor"], PUBLISHED["filesystem(16)"]], ["counterClaim", [4, true, "dpor"], COUNTED["locked counter(4)"]]] as const) {
      const mk = (await import("../../bench/explorer-claims.ts"))[name] as (...a: unknown[]) => ReturnType<typeof counterClaim>;
      const stolen = await exploreParallel({ module: url, export: name, args, workers: 2, stopEarly: false });
      expect(stolen.observed).toBe("Never");
      expect(stolen.complete).toBe(true);
      expect(stolen.coverage).toEqual({ kind: "exhaustive", reduction: "source-DPOR" });
      expect(stolen.stats.executions).toBeGreaterThanOrEqual(traces!);
      if (name === "counterClaim") expect(stolen.stats.executions).toBeLessThanOrEqual(search({ ...mk(...args), search: "dfs" }, { stopEarly: false }).stats.executions);
    }
    // Field footprints reach the workers' searches (steal.ts; their soundness: field-foot.test.ts).
    const stolenFields = await exploreParallel({ module: url, export: "indexerClaim", args: [13, "dpor", 10_000_000, true], workers: 2, stopEarly: false });
    expect([stolenFields.observed, stolenFields.complete]).toEqual(["Never", true]);
    expect(stolenFields.coverage).toEqual({ kind: "exhaustive", reduction: "source-DPOR", footprints: "fields" });
    expect(stolenFields.stats.executions).toBeGreaterThanOrEqual(PUBLISHED["indexer(13)"]!);
    // The budget is shared by the workers, and a budget-cut search establishes nothing.
    const cut = await exploreParallel({ module: url, export: "indexerClaim", args: [14, "dpor", 100], workers: 2 });
    expect([cut.observed, cut.complete]).toEqual(["Incomplete", false]);
    expect(cut.stats.executions).toBeGreaterThanOrEqual(100);
    expect(cut.stats.executions).toBeLessThan(110);
    const racyStolen = await exploreParallel({ module: url, export: "counterClaim", args: [4, false, "dpor"], workers: 2 });
    expect(racyStolen.observed).toBe("Sometimes");
    expect(racyStolen.pass).toBe(true);
    await closeWorkers();
  }, 120_000);
});
