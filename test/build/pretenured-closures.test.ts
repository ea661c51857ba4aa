// lib/kernel/README.md, "No function literal assigned straight to a property", checked over every
// chapter's blocks and every module of lib/ and bench/ (pretenured-closures-lint.ts says what
// counts). The tests' own models are left out: their worlds are small, and making them follow the
// rule measured no change (dpor-soundness, kernel field-foot: the same GC time). Each offence costs speed, never a verdict, so
// the failure names the place and the rewrite.

import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { extract } from "../../build/src/extract.ts";
import { findPretenuredClosures } from "./pretenured-closures-lint.ts";

const root = path.resolve(import.meta.dirname, "../..");
const REWRITE = "bind the function to a local first (`const f = (x) => …; o.f = f;`), write it in an object literal, or use a method and `.bind(this)`: V8 allocates a function literal assigned straight to a property in the old generation, where it keeps the execution it closes over alive through every young collection";

const tsFiles = (dirs: readonly string[]): string[] =>
  dirs.flatMap((dir) => readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith(".ts"))
    .map((d) => path.relative(root, path.join(d.parentPath, d.name)).split(path.sep).join("/")))
    .sort();

const offences = (files: readonly string[]): string =>
  files.flatMap((file) => findPretenuredClosures(readFileSync(path.join(root, file), "utf8"), file).map((o) => `${file}:${o.line}: a function literal assigned to ${o.target}`)).join("\n");

describe("no function literal is assigned straight to a property per execution", () => {
  it("in any chapter's blocks", () => {
    const found: string[] = [];
    for (const name of readdirSync(path.join(root, "chapters")).filter((f) => f.endsWith(".md")).sort()) {
      const file = `chapters/${name}`;
      for (const b of extract(file, readFileSync(path.join(root, file), "utf8")).blocks) {
        for (const o of findPretenuredClosures(b.code)) found.push(`${file}:${b.codeLine + o.line - 1}: a function literal assigned to ${o.target}`);
      }
    }
    expect(found.join("\n"), REWRITE).toBe("");
  });

  it("in any module of lib/ or bench/", () => {
    expect(offences(tsFiles(["lib", "bench"])), REWRITE).toBe("");
  });
});

describe("the lint finds each kind, and only those", () => {
  const lines = (code: string) => findPretenuredClosures(code).map((o) => `${o.line} ${o.target}`);

  it("an arrow, a function expression and a parenthesised or asserted one, assigned to a property or an element inside a function", () => {
    const code = [
      "function setup(k: K, threads: Record<string, () => unknown>) {",
      "  k.mem.onFreed = (pfn) => trace(k, pfn);",
      "  threads[`T${1}`] = () => task(k);",
      "  k.ops.run = function (x) { return x; };",
      "  k.ops.wait ??= ((x: number) => x) as Wait;",
      "  k.ops.a ||= (() => 1) satisfies Fn;",
      "  k.ops.b &&= (<Fn>(() => 2))!;",
      "  (k.ops as Ops).c = () => 3;",
      "}",
    ].join("\n");
    expect(lines(code)).toEqual(["2 k.mem.onFreed", "3 threads[`T${1}`]", "4 k.ops.run", "5 k.ops.wait", "6 k.ops.a", "7 k.ops.b", "8 (k.ops as Ops).c"]);
  });

  it("an exported let or var, which the sandbox's CommonJS makes a property of exports, but not an exported const's name or a local", () => {
    const code = "export let onFree: F | null = null;\nexport var hook: F;\nexport const fixed = 1;\nfunction set() {\n  onFree = () => 1;\n  hook = () => 2;\n  let local = () => 3;\n  local = () => 4;\n}";
    expect(lines(code)).toEqual(["5 onFree", "6 hook"]);
  });

  it("in a constructor, a method and an instance field's initializer", () => {
    const code = "class D {\n  constructor(o: O) { o.f = () => 1; }\n  m(o: O) { o.g = () => 2; }\n  h = (x.i = () => 3);\n  get j() { return (x.j = () => 4); }\n}";
    expect(lines(code)).toEqual(["2 o.f", "3 o.g", "4 x.i", "5 x.j"]);
  });

  it("not a local first, an object literal, a bound method, a conditional, a call's argument, or an assignment at module level or in a static field or block", () => {
    const code = [
      "Math.random = () => 4;",
      "class S { static s = (x.j = () => 4); static { x.k = () => 5; } }",
      "function setup(k: K, threads: Record<string, () => unknown>) {",
      "  const onFreed = (pfn: number) => trace(k, pfn);",
      "  k.mem.onFreed = onFreed;",
      "  const ops = { run: () => 1 };",
      "  k.ops.run_job = k.flush.bind(k);",
      "  k.ops.wait = k.ok ? (x: number) => x : null;",
      "  register(k, () => 2);",
      "  let f = () => 3;",
      "  f = () => 4;",
      "}",
    ].join("\n");
    expect(lines(code)).toEqual([]);
  });
});
