// Every process that explores claims runs with build/src/node-flags.ts's V8 flags: the npm scripts
// that build, test, diff, bench or run a chapter and the shard workflow's jobs with
// WORKER_NODE_FLAGS, vitest's forks (this file runs in one) with EXPLORER_NODE_FLAGS. A script
// that lost a flag would run the kernel model at its old speed with nothing else failing.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EXPLORER_NODE_FLAGS, WORKER_NODE_FLAGS } from "../../build/src/node-flags.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const scripts = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;

/** The node options of each `node … dist/build/src/cli.js` command in `text`. */
const nodeOptions = (text: string): string[][] =>
  [...text.matchAll(/\bnode((?:\s+--[\w-]+(?:=\S+)?)*)\s+dist\/build\/src\/cli\.js\b/g)].map((m) => m[1]!.trim().split(/\s+/).filter(Boolean));

describe("node flags", () => {
  it.each(["build", "watch", "test", "chapter", "bench", "diff"])("npm run %s starts node with them", (name) => {
    const runs = nodeOptions(scripts[name] ?? "");
    expect(runs).toHaveLength(1);
    for (const flag of WORKER_NODE_FLAGS) expect(runs[0]).toContain(flag);
  });

  it("vitest's forks run with them", () => {
    for (const flag of EXPLORER_NODE_FLAGS) expect(process.execArgv).toContain(flag);
  });

  it("the shard workflow's jobs explore and merge with them", () => {
    const runs = nodeOptions(readFileSync(path.join(ROOT, ".github/workflows/claim-shards.yml"), "utf8"));
    expect(runs).toHaveLength(2);
    for (const r of runs) for (const flag of WORKER_NODE_FLAGS) expect(r).toContain(flag);
  });

  it("the parser sees a command without them as one without them", () => {
    expect(nodeOptions("npm run -s compile && node dist/build/src/cli.js build")).toEqual([[]]);
    expect(nodeOptions("node --always-sparkplug dist/build/src/cli.js run")).toEqual([["--always-sparkplug"]]);
  });
});
