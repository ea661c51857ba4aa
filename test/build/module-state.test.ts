// lib/ is linked once per chapter worker and shared by the chapter's units (build/README.md,
// "Confinement"): safe only if no module of lib/ keeps state between calls, beyond the ambient
// slots of build/src/sandbox/ambient.ts, which resetAmbient() puts back when each unit loads.
// This is the proof over the source (module-state-lint.ts says what counts); it fails on a
// planted offender of every kind.

import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { AMBIENT, HOST_ONLY_MODULES } from "../../build/src/sandbox/ambient.ts";
import { ModuleCompiler } from "../../build/src/sandbox/modules.ts";
import { findModuleState, type Offence } from "./module-state-lint.ts";

const root = path.resolve(import.meta.dirname, "../..");
const rel = (f: string) => path.relative(root, f).split(path.sep).join("/");
const libFiles = (): string[] =>
  readdirSync(path.join(root, "lib"), { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith(".ts"))
    .map((d) => path.join(d.parentPath, d.name))
    .sort();

/** Offences not covered by an ambient slot (a slot's binding, written only by its writers). */
function unexplained(found: readonly Offence[]): Offence[] {
  return found.filter((o) => {
    const slot = AMBIENT.find((s) => s.file === o.file && s.name === o.name);
    if (!slot) return true;
    return o.rule === "assignment" && !slot.writers.includes(o.in ?? "(load)");
  });
}
const show = (os: readonly Offence[]) => os.map((o) => `${o.file}:${o.line} ${o.rule} ${o.name}${o.in ? ` in ${o.in}` : ""}: ${o.text}`).join("\n");

/** A program over the real lib/ plus planted files (absolute path -> text). */
function plantedHost(planted: Record<string, string>): ts.CompilerHost {
  const host = ts.createCompilerHost({});
  const get = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (planted[name] !== undefined ? ts.createSourceFile(name, planted[name]!, lang) : get(name, lang, ...rest));
  const exists = host.fileExists.bind(host);
  host.fileExists = (name) => planted[name] !== undefined || exists(name);
  const read = host.readFile.bind(host);
  host.readFile = (name) => planted[name] ?? read(name);
  return host;
}

describe("module state in lib/", () => {
  const files = libFiles();
  const shared = files.filter((f) => !HOST_ONLY_MODULES.includes(rel(f)));

  it("no module of lib/ the sandbox loads keeps state, beyond the ambient slots", () => {
    const found = findModuleState(root, shared);
    expect(show(unexplained(found))).toBe("");
    // Every slot is still there (a stale entry would hide a future offender of that name).
    for (const s of AMBIENT) expect(found.some((o) => o.file === s.file && o.name === s.name), `${s.file} ${s.name}`).toBe(true);
  });

  it("the modules left out are exactly those that import Node, which the sandbox cannot load", () => {
    const nodeImporters = files.filter((f) => /from "node:/.test(readFileSync(f, "utf8"))).map(rel);
    expect(nodeImporters).toEqual([...HOST_ONLY_MODULES]);
  });

  it("resetAmbient() resets every slot that can be set, and the runtime calls it before anything else", () => {
    const src = readFileSync(path.join(root, "lib/explorer/ambient.ts"), "utf8");
    const body = src.slice(src.indexOf("export function resetAmbient"));
    for (const s of AMBIENT) if (s.reset) expect(body, `${s.name}: ${s.reset}`).toMatch(new RegExp(`\\b${s.reset}\\(`));
    const runtime = ts.createSourceFile("chapter.ts", readFileSync(path.join(root, "build/runtime/chapter.ts"), "utf8"), ts.ScriptTarget.ES2022);
    const first = runtime.statements.find((s) => ts.isExpressionStatement(s));
    expect(first?.getText(runtime)).toBe("resetAmbient(globalThis);");
  });

  it("fails on a planted offender of every kind", () => {
    const dir = path.join(root, "lib/kernel");
    const planted = path.join(dir, "planted-state.ts");
    const text = [
      `import { DmaFence } from "./dma-fence.ts";`,
      `import { COMMITS } from "./commits.ts";`,
      `let counter = 0;`,
      `var old = 1;`,
      `const cache = new Map<string, number>();`,
      `const list: readonly number[] = [1, 2];`,
      `const table = Object.freeze({ a: [1] });`,
      `const closure = (() => { let n = 0; return () => ++n; })();`,
      `const ok = Object.freeze({ a: Object.freeze([1]), f: () => 1, s: "x" });`,
      `export class Counted { static made = 0; static readonly box = { n: 0 }; static readonly fine = 3; static bump() { this.made++; } }`,
      `export function next(): number { counter++; (COMMITS as any).x = 1; Object.assign(ok, {}); delete (ok as any).s; return counter; }`,
      `export function patch(): void { (DmaFence.prototype as any).hook = 1; (globalThis as any).leak = 1; }`,
      `export function expando(): void {}`,
      `(expando as any).cache = new Map();`,
      `(expando as any).name2 = "fine";`,
      `Object.assign(expando, { list: [] });`,
    ].join("\n");
    const found = findModuleState(root, [...shared, planted], plantedHost({ [planted]: text })).filter((o) => o.file === rel(planted));
    expect(found.map((o) => `${o.rule} ${o.name}`).sort()).toEqual([
      "assignment COMMITS", "assignment DmaFence", "assignment counter", "assignment expando", "assignment expando", "assignment globalThis", "assignment ok", "assignment ok",
      "let counter", "let old", "mutable-const cache", "mutable-const closure", "mutable-const list", "mutable-const table",
      "static box", "static made", "static this",
    ]);
    // A planted slot's name on the allow-list does not excuse a write from another function.
    expect(unexplained([{ file: "lib/explorer/context.ts", line: 1, name: "current", rule: "assignment", in: "somewhereElse", text: "" }])).toHaveLength(1);
  });

  it("a module of lib/ hands its non-exported top-level bindings to the worker to harden, but its ambient slots", () => {
    const guard = path.join(root, "lib/explorer/guard.ts");
    const m = new ModuleCompiler(root, new Map()).bundleOf(guard, [guard]).modules[guard]!;
    expect(m.shared).toBe(true);
    const last = m.code.trimEnd().split("\n").at(-1)!;
    expect(last).toMatch(/^return \[.*\];$/);
    const names = last.slice("return [".length, -2).split(", ");
    expect(names).toEqual(expect.arrayContaining(["RealDate", "names", "GuardedDate", "refuse", "mathFrozen"]));
    for (const slot of ["g", "saved", "depth", "stubs"]) expect(names).not.toContain(slot);
    expect(names).not.toContain("installGuard"); // exported: hardened with the exports
  });

  it("no module of lib/ declares globals: the unit keys hold only chapters' global declarations (hash.ts globalDeclarations)", () => {
    const declaring = libFiles().filter((f) => /\bdeclare\s+(global|module)\b/.test(readFileSync(f, "utf8")));
    expect(declaring.map(rel)).toEqual([]);
  });
});
