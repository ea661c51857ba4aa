// A unit's run (run.ts, `UnitRun`) as stored in the unit cache (pipeline.ts): the paths the build
// reads back (the chapter, and the file of each frame) relative to the root, so that a checkout
// elsewhere reads the same; records are kept exactly as the worker sent them (a record may well
// have a field named `file` of its own, such as a simulated file's name).

import path from "node:path";
import type { Frame } from "./sandbox/protocol.ts";
import type { UnitRun } from "./run.ts";

function mapFrames(u: UnitRun, f: (file: string) => string): UnitRun {
  const frame = (x: Frame | null): Frame | null => (x ? { ...x, file: f(x.file) } : null);
  return {
    ...u,
    file: f(u.file),
    errors: u.errors.map((e) => ({ ...e, frame: frame(e.frame) })),
    tests: u.tests.map((t) => ({ ...t, error: t.error ? { ...t.error, frame: frame(t.error.frame) } : null })),
  };
}

const slash = (p: string) => p.split(path.sep).join("/");

/** `layout`: where the unit's code sat when it ran (hash.ts `unitHash`). */
export function unitToCache(root: string, u: UnitRun, layout = ""): string {
  const { linkedLib: _, ...kept } = u;
  return JSON.stringify({ layout, ...mapFrames(kept, (file) => slash(path.relative(root, file))) });
}

export function unitFromCache(root: string, text: string): { run: UnitRun; layout: string } {
  const { layout, ...run } = JSON.parse(text) as UnitRun & { layout?: string };
  return { run: mapFrames(run, (file) => path.join(root, file)), layout: layout ?? "" };
}

/**
 * A cached run for a unit whose code now sits at `layout`, or null when it cannot be used. Made
 * at the same layout, it is used as it is. Made at another (prose moved the blocks), it is used
 * only if nothing in it names a line of the chapter: no error, no failed test, so no frame; its
 * tests' fence lines are then taken from the chapter as it is now (`fenceLine`). A failure is
 * run again, so that its frame points at the line it is on now.
 */
export function relocated(cached: { run: UnitRun; layout: string }, layout: string, fenceLine: (blockId: string) => number | undefined): UnitRun | null {
  const { run } = cached;
  if (cached.layout === layout) return run;
  const clean = !run.loadError && run.errors.length === 0 && run.tests.every((t) => t.error === null && (t.state === "passed" || t.state === "skipped"));
  if (!clean) return null;
  // Records and states are the chapter's JSON: one that names a chapter line (a caught error's
  // stack, `file.md:12:3`) would keep the old line, so such a run is made afresh too.
  if (run.tests.some((t) => /\.md(\?[^"\s:]*)?:\d+/.test(JSON.stringify(t.meta ?? null)))) return null;
  const tests = run.tests.map((t) => {
    if (!t.meta?.blockId || t.meta.line === undefined) return t;
    const line = fenceLine(t.meta.blockId);
    return line === undefined ? t : { ...t, meta: { ...t.meta, line } };
  });
  return { ...run, tests };
}
