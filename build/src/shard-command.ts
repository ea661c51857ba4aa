// `cli.js shard` and `cli.js merge`: one claim's search split over machines by an engine people
// already run (a CI matrix), not by a scheduler of ours. Each matrix job explores one shard
// (DPOR: lib/explorer/steal-shard.ts; DFS: search.shard, tree.ts) and writes a partial record as JSON; one
// last job merges the records (mergeRecords) and decides the verdict once (decide), which also
// minimises and replays the witness. The claim is named the way exploreParallel names it: an ES
// module and an export (a ClaimSpec, or a function returning one, called with --args).

import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { decide, describeCoverage, mergeRecords, search, type ClaimResult, type SearchRecord } from "../../lib/explorer/claim.ts";
import { normaliseSearch } from "../../lib/explorer/config.ts";
import { loadSpec } from "../../lib/explorer/parallel.ts";
import { exploreDporShard } from "../../lib/explorer/steal-shard.ts";

export const SHARD_USAGE = `usage: node --no-allocation-site-pretenuring --single-threaded-gc dist/build/src/cli.js shard --module FILE --export NAME [--args JSON] --index I --count N --out PART.json
       node --no-allocation-site-pretenuring --single-threaded-gc dist/build/src/cli.js merge --module FILE --export NAME [--args JSON] [--out RESULT.json] PART.json...
  shard: explore shard I (0-based) of N of one claim (strategy dfs or dpor) and write its partial record
  merge: merge the partial records of every shard into one verdict, coverage and count; exit 1 unless the claim passes`;

/** What a shard job writes: the claim it explored, which shard, and the raw search record. */
export interface PartialRecord {
  readonly claim: { readonly module: string; readonly export: string; readonly args: readonly unknown[] };
  readonly shard: { readonly index: number; readonly count: number };
  readonly record: SearchRecord;
}

const specOf = (module: string, name: string, args: readonly unknown[]) => loadSpec(pathToFileURL(path.resolve(module)).href, name, args);

/** Explore one shard of one claim (nothing decided: a shard establishes no Never/Always alone). */
export async function exploreShard(module: string, name: string, args: readonly unknown[], index: number, count: number): Promise<PartialRecord> {
  const spec = await specOf(module, name, args);
  const cfg = normaliseSearch(spec.search);
  // Every shard runs to the end of its part: an early stop in one shard would make the merged
  // counts depend on which shard saw both sides first.
  // DPOR: the static split of work-stealing units (steal-shard.ts); DFS: the tree's own shards (tree.ts).
  const record = (cfg.strategy ?? "dpor") === "dpor"
    ? search({ ...spec, search: cfg }, { stopEarly: false, explore: exploreDporShard({ index, count }) })
    : search({ ...spec, search: { ...cfg, shard: { index, count } } }, { stopEarly: false });
  return { claim: { module, export: name, args }, shard: { index, count }, record };
}

/** Merge every shard's partial record of one claim and decide it. */
export async function mergeShards(module: string, name: string, args: readonly unknown[], parts: readonly PartialRecord[]): Promise<ClaimResult> {
  if (!parts.length) throw new Error("merge needs the partial record of every shard; none given.");
  const want = JSON.stringify({ module, export: name, args });
  const count = parts[0].shard.count;
  const seen = new Set<number>();
  for (const p of parts) {
    if (JSON.stringify(p.claim) !== want) throw new Error(`a partial record is of another claim (${JSON.stringify(p.claim)}, expected ${want}); merge the shards of one claim at a time.`);
    if (p.shard.count !== count) throw new Error(`partial records of ${count} and of ${p.shard.count} shards are mixed; run every shard of one split.`);
    if (seen.has(p.shard.index)) throw new Error(`shard ${p.shard.index + 1}/${count} is given twice.`);
    seen.add(p.shard.index);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length) throw new Error(`shard(s) ${missing.map((i) => `${i + 1}/${count}`).join(", ")} missing: without them the merged search covers part of the tree and establishes nothing.`);
  const spec = await specOf(module, name, args);
  const ordered = [...parts].sort((a, b) => a.shard.index - b.shard.index).map((p) => p.record);
  return decide(spec, mergeRecords(ordered));
}

export async function shardCommand(argv: string[], log = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv.slice(1), allowPositionals: true,
    options: { module: { type: "string" }, export: { type: "string" }, args: { type: "string" }, index: { type: "string" }, count: { type: "string" }, out: { type: "string" } },
  });
  const cmd = argv[0];
  if (!values.module || !values.export) {
    console.error(SHARD_USAGE);
    return 2;
  }
  const args = values.args ? (JSON.parse(values.args) as unknown[]) : [];
  if (cmd === "shard") {
    const index = Number(values.index), count = Number(values.count);
    if (!values.out || !(Number.isInteger(count) && count >= 1 && Number.isInteger(index) && index >= 0 && index < count)) {
      console.error(`shard needs --index I --count N with 0 <= I < N, and --out\n${SHARD_USAGE}`);
      return 2;
    }
    const part = await exploreShard(values.module, values.export, args, index, count);
    await writeFile(values.out, JSON.stringify(part) + "\n");
    const r = part.record;
    log(`shard ${index + 1}/${count} of ${values.export}: ${r.stats.executions} executions (predicate true in ${r.counts.true}, false in ${r.counts.false}), ${r.complete ? "complete" : "INCOMPLETE (budget)"}; wrote ${values.out}`);
    return 0;
  }
  const parts = await Promise.all(positionals.map(async (f) => JSON.parse(await readFile(f, "utf8")) as PartialRecord));
  const result = await mergeShards(values.module, values.export, args, parts);
  log(result.message);
  log(`merged ${parts.length} shard(s): ${result.observed} (${result.pass ? "PASS" : "FAIL"}), ${describeCoverage(result.coverage)}, ${result.stats.executions} executions`);
  if (values.out) {
    const { observed, expected, pass, complete, coverage, stats, counts } = result;
    await writeFile(values.out, JSON.stringify({ title: result.title, observed, expected, pass, complete, coverage, stats, counts, witness: result.witness?.token }, null, 2) + "\n");
  }
  return result.pass ? 0 : 1;
}
