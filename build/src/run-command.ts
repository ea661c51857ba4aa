// `npm run -s chapter -- chapters/NN-x.md [BLOCK-ID ...]`: type-check one chapter and run it (or
// only the named blocks) in the same sandbox as the build, printing each claim's verdict and coverage.
// `BOOK_REPLAY=<token>` (or `--replay TOKEN`) re-runs one execution of each claim instead of
// searching and prints its trace. No result is cached (transpiled modules are, as by the build:
// .cache/results/transpile) and no site is built.

import { readFile } from "node:fs/promises";
import path from "node:path";
import pc from "picocolors";
import { formatDiagnostic, type Diagnostic } from "./diagnostic.ts";
import { extract, type Extract } from "./extract.ts";
import { listChapters } from "./pipeline.ts";
import { runChapters } from "./run.ts";
import { markdownColumn } from "./tangle.ts";
import { ChapterTypeChecker } from "./typecheck.ts";
import { coverageWords } from "./claim-view.ts";
import { transpileDir } from "./sandbox/transpile-cache.ts";
import type { ClaimResult } from "../../lib/explorer/claim.ts";

/** `cacheDir`: the build's results cache (cli.ts), beside which transpiled modules are kept; null: none. */
export async function runCommand(root: string, args: string[], replay: string | null, unconfined = false, cacheDir: string | null = null): Promise<number> {
  const [target, ...blocks] = args;
  if (!target) {
    console.error("usage: npm run -s chapter -- chapters/NN-x.md [BLOCK-ID ...]   (BOOK_REPLAY=<token> to replay)");
    return 2;
  }
  const abs = path.resolve(root, target);
  const rel = (f: string) => path.relative(root, f).split(path.sep).join("/");
  const files = await listChapters(path.dirname(abs));
  if (!files.includes(abs)) {
    console.error(`${target} is not a chapter: expected one of ${files.map(rel).join(", ")}`);
    return 2;
  }
  const extracts = new Map<string, Extract>();
  for (const f of files) extracts.set(f, extract(rel(f), await readFile(f, "utf8")));
  const ex = extracts.get(abs)!;
  const diags: Diagnostic[] = [...ex.diagnostics];
  if (diags.length === 0) {
    const checker = new ChapterTypeChecker(root);
    for (const f of files) checker.update(extracts.get(f)!);
    diags.push(...checker.check(ex, files));
  }
  if (diags.length > 0) {
    for (const d of diags) console.log(formatDiagnostic(d));
    return 1;
  }
  const unknown = blocks.filter((b) => !ex.blocks.some((x) => x.id === b));
  if (unknown.length > 0) {
    console.error(`${rel(abs)} has no block ${unknown.map((b) => `"${b}"`).join(", ")}; its test blocks are ${ex.blocks.filter((b) => b.flags.test).map((b) => b.id).join(", ")}`);
    return 2;
  }
  const { modules } = await runChapters(root, [abs], extracts, { only: blocks.length > 0 ? blocks : null, runNamedSkipped: true, replayToken: replay, workers: 1, unconfined, transpileCache: transpileDir(cacheDir) });
  const m = modules[0]!;
  let failed = 0;
  const where = (f: { file: string; line: number; col: number } | null, line: number) =>
    f ? `${rel(f.file)}:${f.line}:${f.file === abs ? markdownColumn(ex, f.line, f.col) : f.col}` : `${rel(abs)}:${line}:1`;
  for (const e of m.errors) {
    failed++;
    console.log(`${where(e.frame, 1)} - error load-error: ${e.message}`);
  }
  for (const t of m.tests) {
    if (t.state === "skipped") continue;
    const line = t.meta?.line ?? 1;
    if (t.state === "failed") {
      failed++;
      console.log(`${pc.red("✗")} ${t.name}`);
      console.log(`${where(t.error?.frame ?? null, line)} - error ${t.name}: ${t.error?.message ?? "failed"}`);
    } else {
      console.log(`${pc.green("✓")} ${t.name} ${pc.dim(`(${Math.round(t.durationMs ?? 0)} ms)`)}`);
    }
    // Each claim's verdict and what decided it, as the page shows them.
    for (const r of (t.meta?.records ?? []) as Partial<ClaimResult & { type: string }>[]) {
      if (r.type !== "claim" || !r.coverage || !r.stats) continue;
      console.log(`    ${r.id ?? r.title}: ${r.observed} (expected ${r.expected}); ${coverageWords(r.coverage, r.stats, !!r.complete, r.expected!, r.observed!, r.reads, r)}`);
    }
  }
  console.log(`${m.tests.filter((t) => t.state === "passed").length} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}
