// `npm run bench`: the pipeline's stage times, cold and warm, medians of several runs, then the
// explorer's own benchmark table. Numbers, and one check: the exit code is 1 when the DPOR starts
// more runs than the published trace counts (bench/explorer.ts). Benchmarks never gate a test run.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "./cli.ts";
import type { Results } from "./results.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One build in a fresh process (a cold Node, vitest and TypeScript), returning its stage times. */
function buildIn(dir: string, args: string[]): Record<string, number> {
  const results = path.join(ROOT, ".bench/results.json");
  const t0 = performance.now();
  try {
    // With this process's node flags (npm run bench's, node-flags.ts), as every build runs.
    execFileSync(process.execPath, [...process.execArgv, path.join(ROOT, "dist/build/src/cli.js"), "build", "--chapters", dir,
      "--results", results, "--docs", path.join(ROOT, ".bench/docs"), "--site-dir", path.join(ROOT, ".bench/site"), ...args],
    { cwd: ROOT, stdio: "pipe" });
  } catch (e) {
    throw new Error(`the benchmark book failed to build; run npm run build first and fix the chapters\n${(e as { stdout?: Buffer }).stdout}`);
  }
  const wall = performance.now() - t0;
  return { ...(JSON.parse(readFileSync(results, "utf8")) as Results).timings, wall };
}

async function makeBook(n: number): Promise<string> {
  const dir = path.join(ROOT, `.bench/book-${n}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const src = await readFile(path.join(ROOT, "chapters/00-how-to-read-this-book.md"), "utf8");
  // The copies sit two folders below the root, so their `../lib/` imports gain a level.
  const copy = src.replace(/"\.\.\/lib\//g, '"../../lib/');
  for (let i = 0; i < n; i++) await writeFile(path.join(dir, `${String(i).padStart(2, "0")}-copy.md`), copy.replace(/^# .*/m, `# Copy ${i}`));
  return dir;
}

function row(name: string, samples: Record<string, number>[], baseline?: number): string {
  const keys = ["extract", "typecheck", "run", "render", "mkdocs", "wall"];
  const cells = keys.map((k) => (median(samples.map((s) => s[k] ?? 0)) / 1000).toFixed(2).padStart(8));
  const ratio = baseline ? (median(samples.map((s) => s.wall!)) / baseline).toFixed(1).padStart(7) + "×" : "        ";
  return `${name.padEnd(34)}${cells.join("")}${ratio}`;
}

/**
 * `npm run diff` on a doc PR that edits one chapter: a local clone of HEAD sharing node_modules and
 * the result cache, built once, then one chapter edited and diffed against HEAD. With the cache,
 * the diff should cost about that chapter's run time twice (base and head), not two cold builds.
 */
function diffBench(): void {
  const repo = path.join(ROOT, ".bench/repo");
  const run = (args: string[], opts: { cwd: string; ok?: boolean }) => {
    try {
      return execFileSync(args[0]!, args.slice(1), { cwd: opts.cwd, stdio: "pipe", encoding: "utf8" });
    } catch (e) {
      if (opts.ok) return (e as { stdout?: string }).stdout ?? "";
      throw e;
    }
  };
  run(["git", "clone", "-q", "--local", ROOT, repo], { cwd: ROOT });
  symlinkSync(path.join(ROOT, "node_modules"), path.join(repo, "node_modules"));
  mkdirSync(path.join(ROOT, ".cache"), { recursive: true });
  symlinkSync(path.join(ROOT, ".cache"), path.join(repo, ".cache"));
  run([process.execPath, "node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { cwd: repo });
  run([process.execPath, "dist/build/src/cli.js", "build", "--no-site"], { cwd: repo, ok: true });
  const chapter = "chapters/09-the-worker-and-the-flush.md";
  const results = JSON.parse(readFileSync(path.join(repo, "results/results.json"), "utf8")) as Results;
  const alone = results.chapters.find((c) => c.file === chapter)?.durationMs ?? NaN;
  // A paragraph below the title moves every block of the chapter down: its units' records still
  // come from the cache (hash.ts unitHash, layout).
  writeFileSync(path.join(repo, chapter), readFileSync(path.join(repo, chapter), "utf8").replace("\n", "\n\nAn edit of the prose.\n"));
  const t0 = performance.now();
  run([process.execPath, "dist/build/src/cli.js", "diff", "HEAD", "--no-site"], { cwd: repo, ok: true });
  const wall = performance.now() - t0;
  console.log(`\nnpm run diff, one chapter edited (${path.basename(chapter)}): ${(wall / 1000).toFixed(1)} s; that chapter's own run: ${(alone / 1000).toFixed(1)} s`);
}

/** A cold build of the book at `ref`, in a local clone (its own pipeline, this node_modules). */
function buildAt(ref: string): Record<string, number> {
  const repo = path.join(ROOT, ".bench/before");
  if (!existsSync(repo)) {
    execFileSync("git", ["clone", "-q", "--local", ROOT, repo], { cwd: ROOT, stdio: "pipe" });
    execFileSync("git", ["checkout", "-q", "--detach", ref], { cwd: repo, stdio: "pipe" });
    symlinkSync(path.join(ROOT, "node_modules"), path.join(repo, "node_modules"));
    execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { cwd: repo, stdio: "pipe" });
  }
  const results = path.join(repo, "results/results.json");
  const t0 = performance.now();
  try {
    execFileSync(process.execPath, [...process.execArgv, "dist/build/src/cli.js", "build", "--no-cache", "--no-site"], { cwd: repo, stdio: "pipe" });
  } catch {
    // A failing chapter still wrote its results and its times.
  }
  const wall = performance.now() - t0;
  return { ...(JSON.parse(readFileSync(results, "utf8")) as Results).timings, wall };
}

export async function bench(): Promise<number> {
  if (!existsSync(path.join(ROOT, "chapters"))) throw new Error("no chapters/ to benchmark");
  console.log(`pipeline, median of ${RUNS} runs, seconds (ratio: wall time against the 1-chapter cold build, same process)`);
  console.log(`${"".padEnd(34)}${["extract", "typeck", "run", "render", "mkdocs", "wall"].map((h) => h.padStart(8)).join("")}   ratio`);
  const one = await makeBook(1);
  const twenty = await makeBook(20);
  const cold1 = Array.from({ length: RUNS }, () => buildIn(one, ["--no-cache"]));
  const base = median(cold1.map((s) => s.wall!));
  console.log(row("cold, 1 chapter (baseline)", cold1, base));
  const cold20 = Array.from({ length: RUNS }, () => buildIn(twenty, ["--no-cache"]));
  console.log(row("cold, 20 chapters", cold20, base));
  const unconfined20 = Array.from({ length: RUNS }, () => buildIn(twenty, ["--no-cache", "--unconfined"]));
  console.log(row("cold, 20 chapters, no SES", unconfined20, base));
  buildIn(twenty, []); // fill the cache
  const warm20 = Array.from({ length: RUNS }, () => buildIn(twenty, []));
  console.log(row("warm, 20 chapters (all cached)", warm20, base));
  const edit: Record<string, number>[] = [];
  for (let i = 0; i < RUNS; i++) {
    const f = path.join(twenty, "07-copy.md");
    await writeFile(f, (await readFile(f, "utf8")) + `\n<!-- edit ${Date.now()} ${i} -->\n`);
    edit.push(buildIn(twenty, []));
  }
  console.log(row("one chapter edited, 20 chapters", edit, base));
  // A paragraph inserted near the top moves every block below it: nothing re-runs.
  const moved: Record<string, number>[] = [];
  for (let i = 0; i < RUNS; i++) {
    const f = path.join(twenty, "07-copy.md");
    await writeFile(f, (await readFile(f, "utf8")).replace("\n", `\n\nA new paragraph ${i}.\n`));
    moved.push(buildIn(twenty, []));
  }
  console.log(row("one chapter, blocks moved down", moved, base));
  await rm(path.join(ROOT, ".bench"), { recursive: true, force: true });

  diffBench();

  // The real book, cold: what the sandbox (a worker per chapter, SES) costs against the same
  // workers without SES. Heavy (two full builds a run), so BENCH_BOOK_RUNS defaults to 1.
  const bookRuns = Number(process.env.BENCH_BOOK_RUNS ?? 1);
  const chapters = path.join(ROOT, "chapters");
  const plain = Array.from({ length: bookRuns }, () => buildIn(chapters, ["--no-cache", "--no-site", "--unconfined"]));
  const boxed = Array.from({ length: bookRuns }, () => buildIn(chapters, ["--no-cache", "--no-site"]));
  // BENCH_BEFORE=<ref>: the same cold build of the book at another commit, in this run, for a
  // before/after on the same machine (e.g. the commit before a pipeline change).
  const beforeRef = process.env.BENCH_BEFORE;
  const before = beforeRef ? Array.from({ length: bookRuns }, () => buildAt(beforeRef)) : [];
  const plainWall = median(plain.map((s) => s.wall!));
  console.log(`\nthe book, cold, median of ${bookRuns} run(s), seconds (ratio: against the same build without SES)`);
  console.log(row("cold, the book, no SES (baseline)", plain, plainWall));
  console.log(row("cold, the book, sandboxed", boxed, plainWall));
  if (beforeRef) console.log(row(`cold, the book at ${beforeRef.slice(0, 12)}`, before, plainWall));
  await rm(path.join(ROOT, ".bench"), { recursive: true, force: true });

  // The explorer's table (steps/s against bare generators, DPOR against DFS and the published
  // counts, worker speedup), the explorer against SPIN on S2 (SPIN is bench-only: skipped when
  // `spin` is not installed), then the kernel model's time to verdict (S2, S4).
  for (const [title, file] of [["explorer", "dist/bench/explorer.js"], ["explorer vs SPIN", "dist/bench/spin.js"], ["kernel model", "dist/bench/kernel.js"]] as const) {
    const p = path.join(ROOT, file);
    if (!existsSync(p)) continue;
    console.log(`\n${title}`);
    const mod = await import(pathToFileURL(p).href);
    if (typeof mod.main === "function") await mod.main();
  }
  // A table that found a regression (the explorer's: more runs than published traces) set process.exitCode.
  return typeof process.exitCode === "number" ? process.exitCode : 0;
}


