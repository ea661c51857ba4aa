// lib/kernel/README.md, "No function literal assigned straight to a property", checked over every
// chapter's blocks and every module of lib/ and bench/ (pretenured-closures-lint.ts says what
// counts). The tests' own models are left out: their worlds are small, and making them follow the
// rule measured no change (dpor-soundness, kernel field-foot: the same GC time). Each offence
// costs speed, never a verdict, so the failure names the place and the rewrite.

import { describe, expect, it } from "vitest";
import { chapterBlocks, report, tsModules } from "./lint-sources.ts";
import { findPretenuredClosures, type PretenuredClosure } from "./pretenured-closures-lint.ts";

const REWRITE = "bind the function to a local first (`const f = (x) => …; o.f = f;`), write it in an object literal, or use a method and `.bind(this)`: V8 allocates a function literal assigned straight to a property in the old generation, where it keeps the execution it closes over alive through every young collection";
const say = (o: PretenuredClosure) => `a function literal assigned to ${o.target}`;

describe("no function literal is assigned straight to a property per execution", () => {
  it("in any chapter's blocks", () => {
    expect(report(chapterBlocks(), findPretenuredClosures, say), REWRITE).toBe("");
  });

  it("in any module of lib/ or bench/", () => {
    expect(report(tsModules(["lib", "bench"]), findPretenuredClosures, say), REWRITE).toBe("");
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
