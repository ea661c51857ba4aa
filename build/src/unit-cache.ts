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

export function unitToCache(root: string, u: UnitRun): string {
  const { linkedLib: _, ...kept } = u;
  return JSON.stringify(mapFrames(kept, (file) => slash(path.relative(root, file))));
}

export function unitFromCache(root: string, text: string): UnitRun {
  return mapFrames(JSON.parse(text) as UnitRun, (file) => path.join(root, file));
}
