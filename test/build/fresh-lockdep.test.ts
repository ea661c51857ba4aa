// A chapter's model must build all its state in its setup, once per execution (lib/explorer/README.md
// section 1). A Lockdep made outside the setup and passed to boot() carries the dependency graph one
// explored execution learned into the next, so what an execution reports depends on the order the
// search visits them (chapter 09 did so until December 2026: C09.5-now had 2 outcomes under DPOR's
// order, 1 with a graph per execution). boot() without `lockdep` makes a fresh one; what a real boot
// learns before the test (priming at registration or at boot) is a step of the execution. This is
// the check over the chapters' source; the planted cases show it can fail.

import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");

/** Lines of a chapter that make a Lockdep or hand one to boot(): "line: text". */
export function sharedLockdep(text: string): string[] {
  const out: string[] = [];
  text.split("\n").forEach((line, i) => {
    if (/\bnew\s+Lockdep\s*\(|\bboot\s*\([^)]*\blockdep\s*:/.test(line)) out.push(`${i + 1}: ${line.trim()}`);
  });
  return out;
}

describe("chapters boot a fresh Lockdep in every execution", () => {
  it("no chapter makes a Lockdep or passes one to boot()", () => {
    const found: string[] = [];
    for (const f of readdirSync(path.join(root, "chapters")).filter((n) => n.endsWith(".md")).sort())
      for (const l of sharedLockdep(readFileSync(path.join(root, "chapters", f), "utf8"))) found.push(`chapters/${f}:${l}`);
    expect(found, "a Lockdep made outside the model's setup leaks its graph across executions: let boot() make one").toEqual([]);
  });
  it("finds the planted offenders", () => {
    expect(sharedLockdep('claim({ model: sc09b("x", E18, new Lockdep(E18)) });').length).toBe(1);
    expect(sharedLockdep("const k = boot(era, { lockdep: ld, reclaim: \"never\" });").length).toBe(1);
    expect(sharedLockdep("const k = boot(era, { reclaim: \"never\" });").length).toBe(0);
    expect(sharedLockdep('claim({ title: "v4.16 lockdep: only where reclaim reaches the callback" });').length).toBe(0);
  });
});
