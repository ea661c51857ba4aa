// `npm run bench`: the pipeline's stage times, cold and warm, medians of several runs, then the
// explorer's own benchmark table. Numbers, not pass/fail: benchmarks never gate a test run.

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
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
    execFileSync(process.execPath, [path.join(ROOT, "dist/build/src/cli.js"), "build", "--chapters", dir,
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
  const iso20 = Array.from({ length: RUNS }, () => buildIn(twenty, ["--no-cache", "--isolate"]));
  console.log(row("cold, 20 chapters, --isolate", iso20, base));
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
  return 0;
}


