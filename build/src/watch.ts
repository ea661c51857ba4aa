// `npm run watch`: rebuild when a chapter, lib/ or the runtime changes. The run stage works by
// unit (a chapter's definitions and one test block, run.ts) and caches each unit under a key of
// what it is given (hash.ts, `unitHash`), so an edit to one claim re-runs that claim's block,
// an edit to a definition re-runs the blocks that reach it (slice.ts), and an edit to prose
// re-runs nothing, even one that moves the blocks.
// Each re-run block's verdict is printed as soon as it is known, before type-checking ends and
// before the site is rebuilt. The transpiled lib/, the type checker and the run stage's workers
// are kept across builds, and after the first build mkdocs rebuilds only the pages that changed
// (site.ts, `dirty`).

import path from "node:path";
import { watch as chokidar } from "chokidar";
import pc from "picocolors";
import { buildOnce, ROOT, type buildOptions } from "./cli.ts";
import { unitLine } from "./report.ts";
import { WorkerPool } from "./run.ts";
import { ModuleCompiler } from "./sandbox/modules.ts";
import { ChapterTypeChecker } from "./typecheck.ts";
import { transpileDir } from "./sandbox/transpile-cache.ts";

export async function watch(o: ReturnType<typeof buildOptions>): Promise<number> {
  let running = false;
  let again = false;
  // The workers too (run.ts WorkerPool): an edit's units start on code V8 has optimised already.
  const session: { compiler?: ModuleCompiler; checker?: ChapterTypeChecker; pool: WorkerPool } = { pool: new WorkerPool() };
  /** A change outside the chapters (lib/, the runtime): the checker re-reads its files. */
  let libChanged = true;
  let changedAt = performance.now();
  /** Chapters saved since the last build started: their verdicts come first (run.ts `first`). */
  let saved = new Set<string>();
  let built = false;
  const rebuild = async () => {
    if (running) { again = true; return; }
    running = true;
    do {
      again = false;
      if (libChanged) { session.checker = new ChapterTypeChecker(ROOT); libChanged = false; }
      session.compiler ??= new ModuleCompiler(ROOT, new Map(), transpileDir(o.cacheDir));
      const t0 = changedAt;
      const first = saved;
      saved = new Set();
      const onUnit = (u: Parameters<typeof unitLine>[1] & { file: string }) => {
        const rel = path.relative(ROOT, u.file).split(path.sep).join("/");
        for (const l of unitLine(rel, u)) console.log(l + pc.dim(` ${((performance.now() - t0) / 1000).toFixed(2)} s after the change`));
      };
      // The first build makes the whole site; later ones rebuild only the pages that changed.
      await buildOnce({ ...o, session, onUnit, first, dirtySite: built });
      built = true;
      console.log(pc.dim(`rebuilt in ${((performance.now() - t0) / 1000).toFixed(2)} s; watching for changes (Ctrl-C stops)`));
    } while (again);
    running = false;
  };
  let timer: NodeJS.Timeout | undefined;
  const w = chokidar([o.chaptersDir, path.join(ROOT, "lib"), path.join(ROOT, "build/runtime")], { ignoreInitial: true });
  w.on("all", (_event, file) => {
    if (!/\.(md|ts)$|[\/]contents\.txt$/.test(file)) return;
    if (!file.startsWith(o.chaptersDir + path.sep)) libChanged = true;
    else saved.add(path.resolve(file));
    changedAt = performance.now();
    clearTimeout(timer);
    timer = setTimeout(rebuild, 50); // an editor's save is often several events
  });
  await rebuild();
  return new Promise<number>(() => {});
}
