// Terminal output: one line per chapter, each failure as a greppable `file:line:col` line with
// the command that reruns only that chapter, and the closing `N passed, N failed` line.

import pc from "picocolors";
import { formatDiagnostic, formatWarning } from "./diagnostic.ts";
import type { ChapterResult, Results } from "./results.ts";

export function chapterLine(c: ChapterResult): string {
  const mark = c.status === "passed" ? pc.green("✓") : pc.red("✗");
  const counts = `${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ""}`;
  const how = c.cached ? pc.dim("(cached)") : pc.dim(`(${Math.round(c.durationMs)} ms)`);
  return `${mark} ${c.file}  ${counts} ${how}`;
}

export function failureLines(c: ChapterResult): string[] {
  const out = c.diagnostics.map((d) => "    " + formatDiagnostic(d));
  for (const b of c.blocks) {
    if (b.status !== "failed" || !b.failure) continue;
    const at = b.failure.at ?? { file: c.file, line: b.line, col: 1 };
    const first = b.failure.message.split("\n")[0];
    out.push(`    ${at.file}:${at.line}:${at.col} - error ${b.id}: ${first}`);
  }
  if (c.diagnostics.length > 0) {
    out.push(pc.dim(`    fix, then: npm run build   (unchanged chapters come from the cache)`));
  } else if (out.length > 0) {
    const ids = c.blocks.filter((b) => b.status === "failed" && b.kind === "test").map((b) => b.id);
    out.push(pc.dim(`    rerun only this: npm run -s chapter -- ${c.file}${ids.map((i) => " " + i).join("")}`));
  }
  return out;
}

export function totalLine(r: Results): string {
  return `${r.totals.passed} passed, ${r.totals.failed} failed` + (r.totals.skipped ? `, ${r.totals.skipped} skipped` : "");
}

export function printResults(r: Results, log: (s: string) => void = console.log): void {
  for (const c of r.chapters) {
    log(chapterLine(c));
    for (const w of c.warnings ?? []) log("    " + pc.yellow(formatWarning(w)));
    for (const l of failureLines(c)) log(l);
  }
}

/**
 * Watch mode: one block's verdict as soon as its unit finishes (before type-checking and the
 * site): `✓ id (ms)`, or the failure's first line at its chapter line.
 */
export function unitLine(relFile: string, u: { block: string | null; tests: { name: string; state: string; durationMs: number | null; error: { message: string; frame: { line: number } | null } | null; meta: { line?: number } | null }[]; errors: { message: string; frame: { line: number } | null }[] }): string[] {
  const out: string[] = [];
  for (const e of u.errors) out.push(`${pc.red("✗")} ${relFile}:${e.frame?.line ?? 1} - error ${e.message.split("\n")[0]}`);
  for (const t of u.tests) {
    const ms = pc.dim(`(${Math.round(t.durationMs ?? 0)} ms)`);
    if (t.state === "failed") out.push(`${pc.red("✗")} ${t.name} ${ms}\n    ${relFile}:${t.error?.frame?.line ?? t.meta?.line ?? 1} - error ${t.name}: ${(t.error?.message ?? "failed").split("\n")[0]}`);
    else out.push(`${t.state === "passed" ? pc.green("✓") : pc.dim("-")} ${t.name} ${ms}`);
  }
  return out;
}
