// Stage 4: run chapters as vitest test files, in this process, and collect what each test did.

import path from "node:path";
import { startVitest } from "vitest/node";
import type { Reporter, TestModule } from "vitest/node";
import { bookPlugin } from "./vite-plugin.ts";

export interface Frame { file: string; line: number; col: number }

export interface TestRun {
  name: string;
  state: "passed" | "failed" | "skipped" | "pending";
  durationMs: number | null;
  error: { message: string; frame: Frame | null } | null;
  meta: { blockId?: string; line?: number; records?: unknown[] } | null;
}

export interface ModuleRun {
  /** Absolute path of the chapter. */
  file: string;
  tests: TestRun[];
  /** Errors outside any test: a throw while the chapter loaded. */
  errors: { message: string; frame: Frame | null }[];
  durationMs: number;
}

/** vitest's parsed stack, source-mapped; the first frame in a Markdown chapter is the one we show. */
function chapterFrame(err: { stacks?: { file: string; line: number; column: number }[] }): Frame | null {
  for (const s of err.stacks ?? []) {
    const file = s.file.replace(/\?.*$/, "");
    if (file.endsWith(".md")) return { file, line: s.line, col: s.column };
  }
  return null;
}

class Collector implements Reporter {
  modules: ModuleRun[] = [];
  unhandled: string[] = [];
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<{ message: string }>) {
    for (const m of testModules) {
      const tests: TestRun[] = [];
      for (const t of m.children.allTests()) {
        const r = t.result();
        const e = r.errors?.[0];
        tests.push({
          name: t.name,
          state: r.state,
          durationMs: t.diagnostic()?.duration ?? null,
          error: e ? { message: e.message, frame: chapterFrame(e) } : null,
          meta: (t.meta() as { book?: TestRun["meta"] }).book ?? null,
        });
      }
      const errors = m.errors().map((e) => ({ message: e.message, frame: chapterFrame(e) }));
      this.modules.push({ file: m.moduleId, tests, errors, durationMs: m.diagnostic().duration });
    }
    this.unhandled.push(...unhandledErrors.map((e) => e.message));
  }
}

/** Per-block wall-clock limit; the explorer's own budgets are what normally end a search. */
export const CLAIM_TIMEOUT_MS = 120_000;

export interface RunOptions {
  /** Run chapters in worker threads that keep their module cache across files (see build/README.md). */
  isolate?: boolean;
}

export async function runChapters(root: string, files: readonly string[], opts: RunOptions = {}): Promise<{ modules: ModuleRun[]; unhandled: string[] }> {
  if (files.length === 0) return { modules: [], unhandled: [] };
  const collector = new Collector();
  const rel = files.map((f) => path.relative(root, f).split(path.sep).join("/"));
  const saved = process.exitCode;
  const vitest = await startVitest(
    "test",
    [],
    {
      root,
      config: false,
      watch: false,
      include: rel,
      reporters: [collector],
      pool: "threads",
      isolate: opts.isolate ?? false,
      passWithNoTests: true,
      // A claim is bounded by its own search budget (executions, ms), not by vitest's 5 s default,
      // which a loaded 2-core machine can exceed for a claim that takes 2 s when idle.
      testTimeout: CLAIM_TIMEOUT_MS,
    },
    { plugins: [bookPlugin(root)], logLevel: "silent" },
  );
  await vitest.close();
  process.exitCode = saved; // the build decides its own exit code
  return { modules: collector.modules, unhandled: collector.unhandled };
}
