// lib/kernel/README.md, "No generator functions made per execution", checked over every chapter's
// blocks and every module of lib/ (per-execution-generators-lint.ts says what counts). Each
// offence costs speed, never a verdict, so the failure names the place and the rewrite.

import { describe, expect, it } from "vitest";
import { chapterBlocks, report, tsModules } from "./lint-sources.ts";
import { findPerCallGenerators, type MadePerCall } from "./per-execution-generators-lint.ts";

const REWRITE = "make it a module-level function* called from an arrow (`A: () => task(k, mm)`) or a method of a module-level class; a `call(\"f\", function* () {…})` body in a method becomes `const __f = enter(k, \"f\"); try { … } finally { leave(__f); }`";
const say = (o: MadePerCall) => `${o.what} made in ${o.in}`;

describe("no generator function is made per execution", () => {
  it("in any chapter's blocks", () => {
    expect(report(chapterBlocks(), findPerCallGenerators, say), REWRITE).toBe("");
  });

  // bench/explorer.ts is left out: it times one long execution against bare generator loops,
  // which make their generators the same way, once per measurement.
  it("in any module of lib/ or bench/", () => {
    expect(report(tsModules(["lib", "bench"], ["bench/explorer.ts"]), findPerCallGenerators, say), REWRITE).toBe("");
  });
});

describe("the lint finds each kind, and only those", () => {
  const lines = (code: string) => findPerCallGenerators(code).map((o) => `${o.line} ${o.what} in ${o.in}`);

  it("a function* expression in a model's setup", () => {
    expect(lines('const m = model("m", () => ({\n  threads: { A: function* () { yield 1; } },\n}));')).toEqual(["2 function* in (arrow)"]);
  });

  it("a generator method of an object literal, and a function* declaration, inside a function", () => {
    const code = "function setup() {\n  const buf = { *bind() { yield 1; } };\n  function* run() { yield 2; }\n  return [buf, run];\n}";
    expect(lines(code)).toEqual(["2 bind in setup", "3 run in setup"]);
  });

  it("a generator method of a class expression made inside a method", () => {
    const code = "class D {\n  make() {\n    return class { *go() { yield 1; } };\n  }\n}";
    expect(lines(code)).toEqual(["3 go in make"]);
  });

  it("a function* or an object literal's generator method in an instance field's initializer, made by every new", () => {
    const code = "class D {\n  run = function* () { yield 1; };\n  ops = { *submit() { yield 2; } };\n  static once = function* () { yield 3; };\n}";
    expect(lines(code)).toEqual(["2 function* in field run", "3 submit in field ops"]);
  });

  it("a named function* passed to call() inside a method", () => {
    expect(lines('class D {\n  *f() { return yield* call("f", function* inner() { yield 1; }); }\n}')).toEqual(["2 inner in f"]);
  });

  it("not module-level function*, module-level object literals, module-level classes, or arrows calling them", () => {
    const code = [
      "function* task(x: number) { yield x; }",
      "export const ops = { *submit() { yield 1; } };",
      "class Drv { *bind() { yield 1; } static *make() { yield 2; } }",
      'const m = model("m", () => ({ threads: { A: () => task(1), B: () => new Drv().bind() } }));',
    ].join("\n");
    expect(lines(code)).toEqual([]);
  });
});
