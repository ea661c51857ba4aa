// `npm run diff -- [REF]`: build the book at REF (default: the merge base with main) in a
// temporary git worktree, then build the working tree against it. Prints every claim whose
// verdict, coverage or witness changed, renders them on the site, and exits non-zero when a
// verdict changed that the chapter does not expect, or a claim did not run.
//
// Both builds share the content-hash cache (.cache/results): a result is keyed by the chapter,
// everything it imports and the pipeline that ran it, so the base's unchanged chapters are the
// head's cached results, and a one-chapter change costs about that chapter's run time twice.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildOnce, ROOT, type buildOptions } from "./cli.ts";

const git = (...args: string[]) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();

export async function diffCommand(o: ReturnType<typeof buildOptions>, ref?: string): Promise<number> {
  const base = ref ?? (() => { try { return git("merge-base", "HEAD", "main"); } catch { return "HEAD"; } })();
  const sha = git("rev-parse", "--verify", `${base}^{commit}`);
  const t0 = performance.now();
  const dir = mkdtempSync(path.join(tmpdir(), "book-base-"));
  console.log(`building the base ${base} (${sha.slice(0, 12)}) in ${dir}`);
  git("worktree", "add", "--detach", dir, sha);
  try {
    symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    // Keyed by content, so sharing it can never serve the base a result of the head's code.
    mkdirSync(path.join(ROOT, ".cache"), { recursive: true });
    symlinkSync(path.join(ROOT, ".cache"), path.join(dir, ".cache"));
    execFileSync(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: dir, stdio: "inherit" });
    const baseResults = path.join(ROOT, "results/base-results.json");
    try {
      // With this process's node flags (WORKER_NODE_FLAGS among them), as the head's build.
      execFileSync(process.execPath, [...process.execArgv, "dist/build/src/cli.js", "build", "--no-site", "--results", baseResults], { cwd: dir, stdio: "pipe" });
    } catch {
      // A base with failing chapters still wrote its results; that is all the comparison needs.
    }
    if (!existsSync(baseResults)) throw new Error(`the base ${base} did not produce results.json; does it have the pipeline?`);
    console.log(`base built in ${((performance.now() - t0) / 1000).toFixed(1)} s; building the working tree`);
    return (await buildOnce({ ...o, baseResults, baseLabel: `${base} (${sha.slice(0, 12)})` })).code;
  } finally {
    git("worktree", "remove", "--force", dir);
    await rm(dir, { recursive: true, force: true });
  }
}
