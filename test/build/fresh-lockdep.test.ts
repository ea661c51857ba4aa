// A model must build all its state in its setup, once per execution (lib/explorer/README.md
// section 1). A Lockdep made outside the setup and passed to boot() carried the dependency graph one
// explored execution learned into the next, so what an execution reported depended on the order the
// search visited them (chapter 09 did so until December 2026: C09.5-now had 2 outcomes under DPOR's
// order, 1 with a graph per execution; lib tests did so too). boot() now makes the only graph and
// takes none from outside; what a real boot learns before the test (priming at registration or at
// boot) is a step of the execution: k.lockdep.prime(...). This check keeps anything else from making
// a Lockdep or handing one to boot() (a cast would get past the type), over the chapters and every
// TypeScript source of lib/, test/, bench/, build/ and scripts/. The planted cases show it can fail.

import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");

/** Files that may make a Lockdep, each with why it does not share one across executions. */
export const ALLOWED: ReadonlyMap<string, string> = new Map([
  ["lib/kernel/kernel.ts", "boot() makes the one graph of its execution"],
  ["test/build/fresh-lockdep.test.ts", "this check's planted offenders"],
]);

/** Lines of a source that make a Lockdep or hand one to boot(): "line: text". */
export function sharedLockdep(text: string): string[] {
  const lines = new Set<number>();
  text.split("\n").forEach((line, i) => {
    if (/\bnew\s+Lockdep\s*\(/.test(line)) lines.add(i);
  });
  // boot()'s options may span lines; `[^()]*` keeps the match inside the call's own parentheses.
  for (const m of text.matchAll(/\bboot\s*\([^()]*?\blockdep\s*:/g)) lines.add(text.slice(0, m.index + m[0].length).split("\n").length - 1);
  const all = text.split("\n");
  return [...lines].sort((a, b) => a - b).map((i) => `${i + 1}: ${all[i].trim()}`);
}

/** Offending lines ("file:line: text") of `files` outside `allowed`, and allow-list entries that no longer match (stale reasons). */
export function lockdepOffenders(files: ReadonlyMap<string, string>, allowed: ReadonlyMap<string, string>): { offenders: string[]; stale: string[] } {
  const offenders: string[] = [];
  const hit = new Set<string>();
  for (const [f, text] of files) {
    const found = sharedLockdep(text);
    if (found.length > 0) hit.add(f);
    if (!allowed.has(f)) for (const l of found) offenders.push(`${f}:${l}`);
  }
  return { offenders, stale: [...allowed.keys()].filter((f) => files.has(f) && !hit.has(f)) };
}

function sources(dir: string, exts: RegExp, out: Map<string, string>): void {
  for (const name of readdirSync(path.join(root, dir)).sort()) {
    const rel = `${dir}/${name}`;
    if (name === "node_modules" || name === "dist") continue;
    if (statSync(path.join(root, rel)).isDirectory()) sources(rel, exts, out);
    else if (exts.test(name)) out.set(rel, readFileSync(path.join(root, rel), "utf8"));
  }
}

describe("every execution boots a fresh Lockdep", () => {
  it("nothing but boot() makes a Lockdep or passes one to boot() (chapters, lib, tests, bench, build, scripts)", () => {
    const files = new Map<string, string>();
    sources("chapters", /\.md$/, files);
    for (const d of ["lib", "test", "bench", "build", "scripts"]) sources(d, /\.(ts|mts|mjs|js)$/, files);
    expect(files.has("lib/kernel/kernel.ts")).toBe(true);
    const { offenders, stale } = lockdepOffenders(files, ALLOWED);
    expect(offenders, "a Lockdep made outside boot() can leak its graph across executions: let boot() make it, prime it in the setup").toEqual([]);
    expect(stale, "allow-listed files that no longer make a Lockdep: drop them from ALLOWED").toEqual([]);
  });
  it("finds the planted offenders", () => {
    expect(sharedLockdep('claim({ model: sc09b("x", E18, new Lockdep(E18)) });').length).toBe(1);
    expect(sharedLockdep("const k = boot(era, { lockdep: ld, reclaim: \"never\" });").length).toBe(1);
    expect(sharedLockdep("const k = boot(era, {\n  reclaim: \"choose\",\n  lockdep: ld,\n});")).toEqual(["3: lockdep: ld,"]);
    expect(sharedLockdep("const k = boot(era, { reclaim: \"never\" });").length).toBe(0);
    expect(sharedLockdep("const k = boot(era);\nconst o = { lockdep: 1 };").length).toBe(0);
    expect(sharedLockdep('claim({ title: "v4.16 lockdep: only where reclaim reaches the callback" });').length).toBe(0);
  });
  it("fails on a lib test that shares one Lockdep across executions, unless allow-listed; flags stale entries", () => {
    // The shape test/kernel/locks.test.ts had until December 2026.
    const shared = [
      "const ld = new Lockdep(E18);",
      'const m = model("abba", () => {',
      "  const k = boot(E18, { lockdep: ld });",
      "  return { threads: {} };",
      "});",
    ].join("\n");
    const files = new Map([["test/kernel/x.test.ts", shared], ["test/kernel/y.test.ts", "const k = boot(E18);"]]);
    expect(lockdepOffenders(files, new Map()).offenders).toEqual([
      "test/kernel/x.test.ts:1: const ld = new Lockdep(E18);",
      "test/kernel/x.test.ts:3: const k = boot(E18, { lockdep: ld });",
    ]);
    expect(lockdepOffenders(files, new Map([["test/kernel/x.test.ts", "one boot, many runs"]]))).toEqual({ offenders: [], stale: [] });
    expect(lockdepOffenders(files, new Map([["test/kernel/y.test.ts", "no longer shares"]])).stale).toEqual(["test/kernel/y.test.ts"]);
  });
});
