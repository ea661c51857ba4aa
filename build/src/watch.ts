// `npm run watch`: rebuild when a chapter, lib/ or the runtime changes. Chapters whose content
// hash (their text and everything they import) is unchanged come from the cache, so an edit
// re-runs that chapter and the chapters that import it, and nothing else.

import path from "node:path";
import { watch as chokidar } from "chokidar";
import pc from "picocolors";
import { buildOnce, ROOT, type buildOptions } from "./cli.ts";

export async function watch(o: ReturnType<typeof buildOptions>): Promise<number> {
  let running = false;
  let again = false;
  const rebuild = async () => {
    if (running) { again = true; return; }
    running = true;
    do {
      again = false;
      const t0 = performance.now();
      await buildOnce(o);
      console.log(pc.dim(`rebuilt in ${((performance.now() - t0) / 1000).toFixed(2)} s; watching for changes (Ctrl-C stops)`));
    } while (again);
    running = false;
  };
  let timer: NodeJS.Timeout | undefined;
  const w = chokidar([o.chaptersDir, path.join(ROOT, "lib"), path.join(ROOT, "build/runtime")], { ignoreInitial: true });
  w.on("all", (_event, file) => {
    if (!/\.(md|ts)$|[\/]contents\.txt$/.test(file)) return;
    clearTimeout(timer);
    timer = setTimeout(rebuild, 50); // an editor's save is often several events
  });
  await rebuild();
  return new Promise<number>(() => {});
}
