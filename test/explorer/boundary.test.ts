// index.ts (what chapters import) must stay free of Node APIs and Node types.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const tsc = join(root, "node_modules/typescript/bin/tsc");

function reachable(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const src = readFileSync(file, "utf8");
  for (const m of src.matchAll(/^(?:import|export)[^"']*from\s+["']([^"']+)["']/gm)) {
    if (m[1].startsWith(".")) reachable(resolve(dirname(file), m[1]), seen);
    else seen.add(m[1]);
  }
  return seen;
}

describe("Node-free public surface", () => {
  it("nothing reachable from index.ts imports a node: module or a package", () => {
    const files = [...reachable(join(root, "lib/explorer/index.ts"))];
    expect(files.filter((f) => !f.startsWith("/"))).toEqual([]);
    expect(files.some((f) => f.endsWith("parallel.ts") || f.endsWith("node.ts"))).toBe(false);
  });

  it("index.ts type-checks with types: [] and lib ES2023 only (the chapters' configuration)", () => {
    const dir = mkdtempSync(join(tmpdir(), "explorer-tsc-"));
    const cfg = join(dir, "tsconfig.json");
    writeFileSync(cfg, JSON.stringify({
      compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2023"], types: [], strict: true, noEmit: true, allowImportingTsExtensions: true, verbatimModuleSyntax: true, skipLibCheck: false },
      files: [join(root, "lib/explorer/index.ts")],
    }));
    expect(() => execFileSync(process.execPath, [tsc, "-p", cfg], { encoding: "utf8" })).not.toThrow();
  }, 60_000);
});
