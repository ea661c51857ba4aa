// `node dist/build/src/cli.js <command>`: build, watch, serve, test, bench. See README.md.

import path from "node:path";
import { parseArgs } from "node:util";
import { appendFile, readFile, writeFile } from "node:fs/promises";
import { readdirSync, statSync } from "node:fs";
import { changeLine, changesMarkdown, diffResults, type Change } from "./diff.ts";
import { fileURLToPath } from "node:url";
import pc from "picocolors";
import { build, type BuildOptions } from "./pipeline.ts";
import type { Results } from "./results.ts";
import { renderSite } from "./render.ts";
import { mkdocsBuild } from "./site.ts";
import { printResults, totalLine } from "./report.ts";

/** dist/build/src/cli.js → the project root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

const USAGE = `usage: node dist/build/src/cli.js <build|watch|serve|test|bench|diff [REF]|run CHAPTER [BLOCK...]|shard|merge> [options]
  (shard, merge: one claim's search split over a CI matrix; run them without options for theirs)
  --chapters DIR   chapters folder (default chapters/)
  --results FILE   results file (default results/results.json)
  --docs DIR       mkdocs input folder to write (default docs/generated)
  --site-dir DIR   where mkdocs writes the site (default site/)
  --base-results FILE  compare with this results.json: list changed claims, add a "What changed" page
  --no-site        skip rendering and mkdocs
  --no-cache       re-run every chapter
  --cache-dir DIR  where results are cached (default .cache/results)
  --replay TOKEN   run: re-run one execution of each claim instead of searching (or BOOK_REPLAY=TOKEN)
  --unconfined     run chapters without SES (npm run bench's baseline; run: DPOR_RACE_LOG=1 needs it): never for a verdict`;

export function buildOptions(values: Record<string, string | boolean | undefined>): BuildOptions & { docs: string; siteDir?: string; site: boolean; baseResults?: string; baseLabel?: string } {
  return {
    root: ROOT,
    chaptersDir: path.resolve(ROOT, (values.chapters as string) ?? "chapters"),
    resultsFile: path.resolve(ROOT, (values.results as string) ?? "results/results.json"),
    cacheDir: values["no-cache"] ? null : path.resolve(ROOT, (values["cache-dir"] as string) ?? ".cache/results"),
    docs: path.resolve(ROOT, (values.docs as string) ?? "docs/generated"),
    siteDir: values["site-dir"] ? path.resolve(ROOT, values["site-dir"] as string) : undefined,
    site: !values["no-site"],
    unconfined: Boolean(values.unconfined),
    baseResults: values["base-results"] ? path.resolve(ROOT, values["base-results"] as string) : undefined,
  };
}

/** The largest generated HTML page: the page-weight budget is 1 MB for a page with ten witnesses. */
function heaviestPage(dir: string): { file: string; bytes: number } | null {
  let best: { file: string; bytes: number } | null = null;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".html")) { const bytes = statSync(p).size; if (!best || bytes > best.bytes) best = { file: p, bytes }; }
    }
  };
  try { walk(dir); } catch { return null; }
  return best;
}

/** One full build; returns the exit code. */
export async function buildOnce(o: ReturnType<typeof buildOptions> & { dirtySite?: boolean; first?: ReadonlySet<string> }, log = console.log): Promise<{ code: number; totals: Results["totals"] }> {
  const t0 = performance.now();
  const { results, sources } = await build(o);
  printResults(results, log);
  let changes: Change[] | undefined;
  if (o.baseResults) {
    changes = diffResults(JSON.parse(await readFile(o.baseResults, "utf8")), results);
    log(changes.length === 0 ? "no claim changed against the base" : `${changes.length} claim(s) changed against the base:`);
    for (const c of changes) log("    " + (c.unexpected ? pc.red(changeLine(c)) : changeLine(c)));
    // On a CI runner, the list goes to the job's summary page too.
    if (process.env.GITHUB_STEP_SUMMARY) await appendFile(process.env.GITHUB_STEP_SUMMARY, changesMarkdown(changes, o.baseLabel ?? "the base") + "\n");
  }
  let siteOk = true;
  if (o.site) {
    const t1 = performance.now();
    await renderSite(ROOT, o.docs, results, sources, changes);
    const t2 = performance.now();
    const custom = o.docs !== path.join(ROOT, "docs/generated") || o.siteDir !== undefined;
    const mk = await mkdocsBuild(ROOT, custom ? o.docs : undefined, o.siteDir, { dirty: o.dirtySite });
    results.timings.render = t2 - t1;
    results.timings.mkdocs = performance.now() - t2;
    if (mk.ok) {
      const heavy = heaviestPage(o.siteDir ?? path.join(ROOT, "site"));
      if (heavy) log(pc.dim(`heaviest page: ${path.relative(ROOT, heavy.file)} (${(heavy.bytes / 1024).toFixed(0)} KiB)`));
    }
    if (!mk.ok) {
      siteOk = false;
      log(pc.red("✗ mkdocs build --strict failed:"));
      log(mk.output.trim().split("\n").map((l) => "    " + l).join("\n"));
    }
  }
  results.timings.total = performance.now() - t0;
  const t = results.timings;
  log(pc.dim("time: " + Object.entries(t).map(([k, v]) => `${k} ${(v / 1000).toFixed(2)} s`).join(", ")));
  if (!siteOk) results.totals.failed += 1;
  // Rewritten so the file carries the render and mkdocs times and the site's own failure too.
  await writeFile(o.resultsFile, JSON.stringify(results, null, 2) + "\n");
  log(totalLine(results));
  return { code: results.totals.failed > 0 || changes?.some((c) => c.unexpected) ? 1 : 0, totals: results.totals };
}

async function main(argv: string[]): Promise<number> {
  // One claim's search over a CI matrix: options of their own (shard-command.ts).
  if (argv[0] === "shard" || argv[0] === "merge") return (await import("./shard-command.ts")).shardCommand(argv);
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      chapters: { type: "string" }, "site-dir": { type: "string" }, "base-results": { type: "string" }, results: { type: "string" }, docs: { type: "string" },
      "no-site": { type: "boolean" }, "no-cache": { type: "boolean" }, "cache-dir": { type: "string" }, unconfined: { type: "boolean" }, replay: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const cmd = positionals[0];
  if (values.help || !cmd) { console.log(USAGE); return cmd ? 0 : 2; }
  const o = buildOptions(values);
  switch (cmd) {
    case "build": return (await buildOnce(o)).code;
    case "watch": return (await import("./watch.ts")).watch(o);
    case "serve": return (await import("./serve.ts")).serve(o.siteDir ?? path.join(ROOT, "site"));
    case "test": return (await import("./test-all.ts")).testAll(o);
    case "diff": return (await import("./diff-command.ts")).diffCommand(o, positionals[1]);
    case "bench": return (await import("./bench.ts")).bench();
    case "run": return (await import("./run-command.ts")).runCommand(ROOT, positionals.slice(1), (values.replay as string | undefined) ?? process.env.BOOK_REPLAY ?? null, Boolean(values.unconfined), buildOptions(values).cacheDir);
    default: console.error(`unknown command "${cmd}"\n${USAGE}`); return 2;
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => { console.error(e); process.exitCode = 1; });
