// `npm run diff -- [REF]`: build the book at REF (default: the merge base with main) in a
// temporary git worktree, then build the working tree against it. Prints every claim whose
// verdict, coverage or witness changed, renders them on the site, and exits non-zero when a
// verdict changed that the chapter does not expect.

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, symlinkSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildOnce, ROOT, type buildOptions } from "./cli.ts";

const git = (...args: string[]) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();

export async function diffCommand(o: ReturnType<typeof buildOptions>, ref?: string): Promise<number> {
  const base = ref ?? (() => { try { return git("merge-base", "HEAD", "main"); } catch { return "HEAD"; } })();
  const sha = git("rev-parse", "--verify", `${base}^{commit}`);
  const dir = mkdtempSync(path.join(tmpdir(), "book-base-"));
  console.log(`building the base ${base} (${sha.slice(0, 12)}) in ${dir}`);
  git("worktree", "add", "--detach", dir, sha);
  try {
    symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    execFileSync(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: dir, stdio: "inherit" });
    const baseResults = path.join(ROOT, "results/base-results.json");
    try {
      execFileSync(process.execPath, ["dist/build/src/cli.js", "build", "--no-site", "--no-cache", "--results", baseResults], { cwd: dir, stdio: "pipe" });
    } catch {
      // A base with failing chapters still wrote its results; that is all the comparison needs.
    }
    if (!existsSync(baseResults)) throw new Error(`the base ${base} did not produce results.json; does it have the pipeline?`);
    console.log("building the working tree");
    return (await buildOnce({ ...o, baseResults })).code;
  } finally {
    git("worktree", "remove", "--force", dir);
    await rm(dir, { recursive: true, force: true });
  }
}
