// The whole build: extract → import policy and type-check → run → results.json → render → mkdocs.
// A failure in one chapter never loses another chapter's results, and the site is always
// rendered, with the failures shown where they happened.

import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { extract, type Extract } from "./extract.ts";
import { decodeChapter } from "./utf8.ts";
import { ChapterTypeChecker, checkChapters } from "./typecheck.ts";
import { expectedKey, mergeUnits, runUnits, unitsOf, type Frame, type ModuleRun, type Unit, type UnitRun, type WorkerPool } from "./run.ts";
import { transpileDir } from "./sandbox/transpile-cache.ts";
import { ModuleCompiler } from "./sandbox/modules.ts";
import { relocated, unitFromCache, unitToCache } from "./unit-cache.ts";
import { RESULTS_SCHEMA, type BlockResult, type ChapterResult, type Results, type Location } from "./results.ts";
import { blockAt, markdownColumn } from "./tangle.ts";
import { chapterHash, globalDeclarations, SourceCache, toolHash, unitHash } from "./hash.ts";
import type { Diagnostic } from "./diagnostic.ts";
import { parseDirectives, type Directive } from "./directives.ts";
import { scoreboardDiagnostics } from "./scoreboard.ts";
import { chapterWarnings } from "./warnings.ts";
import { contentsDiagnostics } from "./contents.ts";
import { boundMessage, boundRecords } from "./bound.ts";

export interface BuildOptions {
  root: string;
  /** Folder of the book's chapters (`chapters/`); golden tests point it at a fixture book. */
  chaptersDir: string;
  resultsFile: string;
  /** Reuse results of chapters whose content hash is unchanged. */
  cacheDir: string | null;
  /** Only these chapters (absolute paths); the others keep their cached results, if any. */
  only?: string[];
  /** Bench baseline only: chapters run without SES (see sandbox/worker.ts). */
  unconfined?: boolean;
  /** Watch mode: called as each block's unit finishes, before type-checking ends and before the site. */
  onUnit?: (u: UnitRun, ex: Extract) => void;
  /** Watch mode: the chapters just saved (absolute paths): their units run before the others'. */
  first?: ReadonlySet<string>;
  /** Watch mode: kept across builds, so that lib/ is transpiled and type-checked once. */
  session?: { compiler?: ModuleCompiler; checker?: ChapterTypeChecker; pool?: WorkerPool };
}

export interface BuildOutput {
  results: Results;
  sources: { src: string; ex: Extract; result: ChapterResult; directives: Directive[]; states?: ChapterStates }[];
}

/**
 * A chapter's witness states (lib/explorer/state.ts) by block id and record index: what the
 * pages' state panels load. Never in results.json: cached beside the chapter's result as
 * `<hash>.states.json`, and written as one file per witness under the site's traces/.
 */
export type ChapterStates = Record<string, Record<string, unknown>>;

/** A witness whose states take more than this (JSON) has no panel: the page loads it whole. */
export const STATES_MAX_BYTES = 400_000;

function statesOf(run: ModuleRun | undefined): ChapterStates {
  const out: ChapterStates = {};
  for (const t of run?.tests ?? []) {
    const byRecord: Record<string, unknown> = {};
    for (const [i, s] of Object.entries(t.meta?.states ?? {})) if (JSON.stringify(s).length <= STATES_MAX_BYTES) byRecord[i] = s;
    if (Object.keys(byRecord).length > 0) out[t.name] = byRecord;
  }
  return out;
}

const rel = (root: string, abs: string) => path.relative(root, abs).split(path.sep).join("/");

/** How long each unit took last time, so the longest start first (wall time only). */
async function previousDurations(root: string, resultsFile: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    const prev = JSON.parse(await readFile(resultsFile, "utf8")) as Results;
    for (const c of prev.chapters) {
      const file = path.join(root, c.file);
      out.set(expectedKey({ file, block: null }), c.durationMs);
      for (const b of c.blocks) if (b.durationMs !== null) out.set(expectedKey({ file, block: b.id }), b.durationMs);
    }
  } catch {
    // no previous run: any order
  }
  return out;
}

export async function listChapters(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".md")).sort();
  return names.map((n) => path.join(dir, n));
}

function titleOf(src: string, fallback: string): string {
  const m = /^#\s+(.+?)\s*#*\s*$/m.exec(src);
  return m ? m[1]! : fallback;
}

function toLocation(root: string, frame: Frame | null, extracts: Map<string, Extract>): Location | null {
  if (!frame) return null;
  const ex = extracts.get(frame.file);
  return { file: rel(root, frame.file), line: frame.line, col: ex ? markdownColumn(ex, frame.line, frame.col) : frame.col };
}

function assemble(root: string, ex: Extract, src: string, hash: string, diags: Diagnostic[], run: ModuleRun | undefined, extracts: Map<string, Extract>): ChapterResult {
  const abs = path.join(root, ex.file);
  const blocks: BlockResult[] = ex.blocks.map((b) => ({
    id: b.id, line: b.fenceLine, endLine: b.endLine, kind: b.flags.test ? "test" : "definition",
    flags: { skip: b.flags.skip, fails: b.flags.fails, hidden: b.flags.hidden },
    status: "not-run", durationMs: null, failure: null, records: [],
  }));
  const diagnostics = [...diags];
  if (run) {
    const loadError = run.errors[0];
    if (loadError) {
      // The chapter threw while loading: the block that threw fails, and nothing else ran.
      const at = toLocation(root, loadError.frame, extracts);
      const inMine = at && loadError.frame!.file === abs ? blockAt(ex, at.line) : undefined;
      const bad = inMine ? blocks.find((b) => b.line === inMine.fenceLine) : undefined;
      if (bad) {
        bad.status = "failed";
        bad.failure = { message: loadError.message, at };
        // Module code runs top to bottom: the definitions above the one that threw did run.
        for (const b of blocks) if (b.kind === "definition" && b.line < bad.line) b.status = "evaluated";
      }
      else diagnostics.push({ file: at?.file ?? ex.file, line: at?.line ?? 1, col: at?.col ?? 1, stage: "run", code: "load-error", message: `the chapter threw while loading: ${loadError.message}` });
    } else {
      for (const b of blocks) if (b.kind === "definition") b.status = "evaluated";
    }
    for (const t of run.tests) {
      const b = blocks.find((x) => x.id === t.name);
      if (!b) continue;
      b.durationMs = t.durationMs;
      // Bounded here, before results.json and the cache: a long witness keeps its ends (bound.ts).
      b.records = boundRecords(t.meta?.records ?? []);
      b.status = t.state === "passed" ? "passed" : t.state === "failed" ? "failed" : "skipped";
      if (t.state === "failed") {
        const at = toLocation(root, t.error?.frame ?? null, extracts) ?? { file: ex.file, line: b.line, col: 1 };
        let message = boundMessage(t.error?.message ?? "failed");
        if (b.flags.fails && /Expect test to fail/i.test(message)) {
          message = `this block is marked "fails" but it passed; remove "fails" if the fix is intended`;
        }
        b.failure = { message, at };
      }
    }
  }
  const tests = blocks.filter((b) => b.kind === "test");
  const passed = tests.filter((b) => b.status === "passed").length;
  const skipped = tests.filter((b) => b.status === "skipped").length;
  const failedBlocks = blocks.filter((b) => b.status === "failed").length;
  // Every chapter-level problem counts once, and so does a chapter that could not run its tests.
  const notRun = tests.filter((b) => b.status === "not-run").length;
  const failed = failedBlocks + diagnostics.length + (failedBlocks + diagnostics.length === 0 && notRun > 0 ? 1 : 0);
  return {
    file: ex.file, title: titleOf(src, ex.chapter), status: failed > 0 ? "failed" : "passed", hash, cached: false,
    durationMs: run?.durationMs ?? 0, diagnostics, blocks, passed, failed, skipped,
  };
}

export async function build(opts: BuildOptions): Promise<BuildOutput> {
  const timings: Record<string, number> = {};
  const time = async <T>(stage: string, f: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    try { return await f(); } finally { timings[stage] = (timings[stage] ?? 0) + performance.now() - t0; }
  };
  const { root } = opts;
  const files = await listChapters(opts.chaptersDir);

  const srcByFile = new Map<string, string>();
  const extracts = new Map<string, Extract>();
  await time("extract", async () => {
    for (const f of files) {
      const { src, diagnostics } = decodeChapter(rel(root, f), await readFile(f));
      srcByFile.set(f, src);
      const ex = extract(rel(root, f), src);
      ex.diagnostics.unshift(...diagnostics);
      extracts.set(f, ex);
    }
  });

  const sourceCache = new SourceCache(srcByFile, transpileDir(opts.cacheDir));
  let tools = "";
  const hashes = await time("hash", () => {
    // Unconfined runs (the bench's baseline) are another tool: the unit keys say so too.
    tools = toolHash(root) + (opts.unconfined ? "\0unconfined" : "") + globalDeclarations(extracts);
    const cache = sourceCache;
    return new Map(files.map((f) => [f, chapterHash(root, extracts.get(f)!, srcByFile.get(f)!, extracts, tools, cache)]));
  });
  const cached = new Map<string, ChapterResult>();
  const states = new Map<string, ChapterStates>();
  if (opts.cacheDir) {
    for (const f of files) {
      if (opts.only && opts.only.includes(f)) continue;
      const p = path.join(opts.cacheDir, hashes.get(f)! + ".json");
      if (!existsSync(p)) continue;
      cached.set(f, { ...JSON.parse(await readFile(p, "utf8")), cached: true });
      const sp = path.join(opts.cacheDir, hashes.get(f)! + ".states.json");
      if (existsSync(sp)) states.set(f, JSON.parse(await readFile(sp, "utf8")));
    }
  }
  const todo = files.filter((f) => !cached.has(f));

  const directives = new Map(files.map((f) => [f, parseDirectives(rel(root, f), srcByFile.get(f)!)]));
  const diags = new Map<string, Diagnostic[]>(todo.map((f) => [f, [...extracts.get(f)!.diagnostics, ...directives.get(f)!.diagnostics]]));

  // The run stage starts before type-checking: a unit's records depend on its key only, so a
  // run whose chapter then fails to type-check is merely unused (and still cached). Units whose
  // key is in the cache are not run at all.
  const candidates = todo.filter((f) => diags.get(f)!.length === 0 && extracts.get(f)!.blocks.length > 0);
  const units: { u: Unit; key: string; layout: string }[] = [];
  await time("hash", () => {
    const cache = sourceCache;
    for (const f of candidates) for (const u of unitsOf(f, extracts.get(f)!)) units.push({ u, ...unitHash(root, extracts.get(f)!, u.block, extracts, tools, cache, opts.unconfined) });
  });
  const unitRuns = new Map<Unit, UnitRun>();
  const unitDir = opts.cacheDir ? path.join(opts.cacheDir, "units") : null;
  if (unitDir) {
    for (const { u, key, layout } of units) {
      const p = path.join(unitDir, key + ".json");
      if (!existsSync(p)) continue;
      const blocks = extracts.get(u.file)!.blocks;
      const run = relocated(unitFromCache(root, await readFile(p, "utf8")), layout, (id) => blocks.find((b) => b.id === id)?.fenceLine);
      if (run) unitRuns.set(u, run);
    }
  }
  const missing = units.filter(({ u }) => !unitRuns.has(u));
  const expectedMs = await previousDurations(root, opts.resultsFile);
  const compiler = opts.session?.compiler ?? new ModuleCompiler(root, extracts, transpileDir(opts.cacheDir));
  compiler.setExtracts(extracts);
  const t0 = performance.now();
  const running = runUnits(compiler, missing.map(({ u }) => u), { expectedMs, first: opts.first, unconfined: opts.unconfined, pool: opts.session?.pool, onUnit: opts.onUnit && ((r) => opts.onUnit!(r, extracts.get(r.file)!)) });
  // Let the workers start before the main thread blocks on the type checker. Watch mode waits
  // for them: their verdicts are printed as they come, and the checker would hold them back.
  if (opts.onUnit) await running;
  else await new Promise((r) => setImmediate(r));

  // Its time includes the lanes' work between chapters (checkChapters yields to them).
  await time("typecheck", async () => {
    if (todo.length === 0) return;
    await checkChapters(opts.session?.checker ?? new ChapterTypeChecker(root), extracts, files, todo, diags);
  });

  const fresh = await running;
  timings.run = performance.now() - t0;
  // The workers ran lib/ and the runtime as the compiler read them, which can be after the keys
  // read them (a save while watch mode builds): then this build's results are shown, and watch
  // builds again, but none is cached under keys of the text it did not run.
  const unchanged = !sourceCache.changedOnDisk();
  for (const [i, { u, key, layout }] of missing.entries()) {
    const r = fresh[i]!;
    unitRuns.set(u, r);
    // A unit cut short by the watchdog, the safety net or a crash is never cached.
    if (unitDir && !r.interrupted && unchanged) {
      await mkdir(unitDir, { recursive: true });
      await writeFile(path.join(unitDir, key + ".json"), unitToCache(root, r, layout));
    }
  }
  const runByFile = new Map<string, ModuleRun>();
  for (const f of candidates) {
    if (diags.get(f)!.length > 0) continue;
    runByFile.set(f, mergeUnits(f, units.filter(({ u }) => u.file === f).map(({ u }) => unitRuns.get(u)!)));
  }

  const chapters: ChapterResult[] = [];
  for (const f of files) {
    const ex = extracts.get(f)!;
    let r = cached.get(f);
    if (!r) {
      const run = runByFile.get(f);
      r = assemble(root, ex, srcByFile.get(f)!, hashes.get(f)!, diags.get(f)!, run, extracts);
      states.set(f, statesOf(run));
      // An error says more than "checks nothing" (a misspelt fence is the usual reason for both).
      const warnings = r.diagnostics.length === 0 ? chapterWarnings(ex, srcByFile.get(f)!, directives.get(f)!.directives) : [];
      if (warnings.length > 0) r.warnings = warnings;
      // A run cut short by the watchdog, the safety net or a crash says nothing reproducible
      // about the chapter: it is reported, never cached.
      if (opts.cacheDir && !run?.interrupted && unchanged) {
        await mkdir(opts.cacheDir, { recursive: true });
        await writeFile(path.join(opts.cacheDir, r.hash + ".json"), JSON.stringify(r));
        await writeFile(path.join(opts.cacheDir, r.hash + ".states.json"), JSON.stringify(states.get(f) ?? {}));
      }
    }
    chapters.push(r);
  }
  // The scoreboard's checks span chapters, so they run on every build, cached chapters included.
  // So does the table of contents: a chapter or key claim it lists that the book lacks fails here.
  const inputs = files.map((f, i) => ({ result: chapters[i]!, src: srcByFile.get(f)!, directives: directives.get(f)!.directives }));
  const board = scoreboardDiagnostics(inputs);
  for (const [file, ds] of contentsDiagnostics(root, opts.chaptersDir, inputs)) board.set(file, [...(board.get(file) ?? []), ...ds]);
  for (const c of chapters) {
    const extra = board.get(c.file);
    if (!extra) continue;
    c.diagnostics = [...c.diagnostics, ...extra];
    c.failed += extra.length;
    c.status = "failed";
  }
  const totals = chapters.reduce((t, c) => ({ passed: t.passed + c.passed, failed: t.failed + c.failed, skipped: t.skipped + c.skipped }), { passed: 0, failed: 0, skipped: 0 });
  const results: Results = { schema: RESULTS_SCHEMA, chapters, totals, timings };
  await mkdir(path.dirname(opts.resultsFile), { recursive: true });
  await writeFile(opts.resultsFile, JSON.stringify(results, null, 2) + "\n");
  return { results, sources: files.map((f, i) => ({ src: srcByFile.get(f)!, ex: extracts.get(f)!, result: chapters[i]!, directives: directives.get(f)!.directives, states: states.get(f) })) };
}
