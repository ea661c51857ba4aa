// build/src/slice.ts: the definitions a test block can reach, which go into its unit key. An edit
// to a definition no block reaches re-runs nothing; an edit to one a block reaches, directly or
// through other definitions, re-runs that block; an edit to an effectful statement (a call, a
// read of a binding, an import) re-runs every block, because the worker runs it for every unit.
import { describe, expect, test } from "vitest";
import { extract } from "../../build/src/extract.ts";
import { definitionSlice } from "../../build/src/slice.ts";
import { importedSlices } from "../../build/src/import-slice.ts";
import { chapterLoad } from "../../build/src/load-check.ts";

const chapter = (defs: string[], tests: Record<string, string>) => [
  "# Slice", "",
  ...defs.flatMap((d) => ["```ts", d, "```", ""]),
  ...Object.entries(tests).flatMap(([id, code]) => [`\`\`\`ts test id=${id}`, code, "```", ""]),
].join("\n");

const slice = (text: string, id: string) => {
  const ex = extract("chapters/99-slice.md", text);
  return definitionSlice(ex, ex.blocks.find((b) => b.id === id));
};

describe("definitionSlice", () => {
  const defs = [
    'import { model } from "../lib/explorer/index.ts";',
    "function helper(n: number) { return n + offset; }\nconst offset = 1;",
    "export const used = (x: number) => helper(x);",
    "const unused = () => 42;",
    "interface Shape { n: number }\ntype Alias = Shape;",
    'const table = { a: 1, b: "two", f() { return 3; } };',
  ];
  const tests = { A: "used(1);", B: "const s: Alias = { n: 1 }; table.a;" };
  const text = chapter(defs, tests);

  test("a block takes what it names, transitively, and every effectful statement", () => {
    expect(slice(text, "A")).toEqual([defs[0], "function helper(n: number) { return n + offset; }", "const offset = 1;", defs[2]]);
    expect(slice(text, "B")).toEqual([defs[0], "interface Shape { n: number }", "type Alias = Shape;", defs[5]]);
  });

  test("inert and effectful initializers", () => {
    const kinds = (d: string) => slice(chapter([d], { T: "0;" }), "T")!.length === 1 ? "effectful" : "inert";
    expect(kinds("const a = 1, b = 'x', c = [1, -2, true, null], d = { e: () => 1 };")).toBe("inert");
    expect(kinds("const f = function () { return g(); };")).toBe("inert");
    expect(kinds("class K { m() { return 1; } static readonly s = 2; }")).toBe("inert");
    expect(kinds("const m = make();")).toBe("effectful"); // a call
    expect(kinds("const r = other;")).toBe("effectful"); // a read of a binding not initialized there (TDZ, or a global)
    expect(kinds("const o = { x: other.y };")).toBe("effectful");
    expect(kinds("const o = { other };")).toBe("effectful"); // shorthand reads `other`
    expect(kinds("const o = { ...other };")).toBe("effectful");
    expect(kinds("const o = { [k]: 1 };")).toBe("effectful");
    expect(kinds("class K extends Base {}")).toBe("effectful"); // evaluates Base at load
    expect(kinds("class K { static s = make(); }")).toBe("effectful");
    expect(kinds("class K { static { go(); } }")).toBe("effectful");
    expect(kinds("enum E { A }")).toBe("effectful");
    expect(kinds("register();")).toBe("effectful");
    expect(kinds("export { x as y };")).toBe("effectful");
  });

  test("a read of a binding initialized there is inert: an import, a function, an earlier const", () => {
    const kinds = (ds: string[]) => slice(chapter(ds, { T: "0;" }), "T")!;
    const imp = 'import { COMMITS } from "../lib/kernel/commits.ts";';
    expect(kinds([imp, "const E = { a: { commits: [COMMITS.x] } };"])).toEqual([imp]);
    expect(kinds(["function f() { return 1; }", "const g = { f };"])).toEqual([]);
    expect(kinds(["const a = 1;", "const b = [a, { a }];"])).toEqual([]);
    // Declared after the read: a TDZ error at load, so it is effectful, and it pulls in `late`.
    expect(kinds(["const b = late;", "const late = 1;"])).toEqual(["const b = late;", "const late = 1;"]);
    expect(kinds([imp, "const deep = COMMITS.x.y;"])).toEqual([imp, "const deep = COMMITS.x.y;"]); // may throw
    // A property of the chapter's own object may be a getter, which runs code at load.
    const own = ["let n = 0;", "const A = { get x() { return ++n; } };", "const B = { y: A.x };"];
    expect(kinds(own)).toEqual(["let n = 0;", "const A = { get x() { return ++n; } };", "const B = { y: A.x };"]);
  });

  test("a using declaration disposes at the end of the module: effectful", () => {
    expect(slice(chapter(["using u = { [Symbol.dispose]() {} };"], { T: "0;" }), "T")).toEqual(["using u = { [Symbol.dispose]() {} };"]);
    expect(slice(chapter(["using u = null;"], { T: "0;" }), "T")).toEqual(["using u = null;"]);
  });

  test("holes a reader found (December 2026): each is effectful now", () => {
    const kinds = (ds: string[]) => slice(chapter(ds, { T: "0;" }), "T")!;
    // A destructuring default runs code at load.
    expect(kinds(["function arm() { return 1; }", "const { n = arm() } = {} as { n?: number };"])).toEqual(["function arm() { return 1; }", "const { n = arm() } = {} as { n?: number };"]);
    // A declared name is bound to nothing at run time: reading it throws.
    expect(kinds(["declare function trace(m: string): void;", "const log = trace;"])).toEqual(["declare function trace(m: string): void;", "const log = trace;"]);
    // Two blocks joined by ASI: the first block's last line calls through the second block.
    const joined = kinds(["function note(s: TemplateStringsArray) { return s; }\nconst log = note", "`heading`;"]);
    expect(joined.some((t) => t.startsWith("const log = note") && t.endsWith("`heading`;"))).toBe(true);
  });

  test("a test block that does not parse alone makes every unit take every block", () => {
    const text = chapter(["let flag = false;"], { T1: "flag;", T2: "}); flag = true; (async () => {" });
    const ex = extract("chapters/99-slice.md", text);
    expect(definitionSlice(ex, ex.blocks.find((b) => b.id === "T1"))).toBeNull();
  });

  test("a property of a binding imported from a chapter is read at load like any code (its export may have a getter)", () => {
    const fromLib = 'import { COMMITS } from "../lib/kernel/commits.ts";', fromChapter = 'import { o } from "./00-other.md";';
    expect(slice(chapter([fromLib, "const y = COMMITS.x;"], { T: "0;" }), "T")).toEqual([fromLib]);
    expect(slice(chapter([fromChapter, "const y = o.x;"], { T: "0;" }), "T")).toEqual([fromChapter, "const y = o.x;"]);
  });

  test("a chapter that names require, exports, module or arguments is not sliced: they reach bindings by a string", () => {
    for (const n of ["require", "exports", "module", "arguments"]) {
      expect(slice(chapter([`export function f() { return ${n}; }`], { T: "0;" }), "T")).toBeNull();
      expect(slice(chapter(["const a = 1;"], { T: `${n};` }), "T")).toBeNull();
    }
  });

  test("every definition when the slice cannot be taken", () => {
    expect(slice(chapter(["const broken = ;"], { T: "0;" }), "T")).toBeNull(); // a definition that does not parse
    expect(slice(chapter(["const a = 1;"], { T: "0 +;" }), "T")).toBeNull(); // a test block that does not parse
    const ex = extract("chapters/99-slice.md", chapter(["const a = 1;"], {}));
    expect(definitionSlice(ex, undefined)).toBeNull(); // no test block
  });

  test("a local that shadows a top-level name only adds to the slice", () => {
    expect(slice(chapter(["const unused = () => 1;"], { T: "{ const unused = 2; unused; }" }), "T")).toEqual(["const unused = () => 1;"]);
  });
});

// build/src/import-slice.ts: the same argument across chapter imports. A unit's key holds, of each
// chapter it imports, only what its block can reach through the names they import from each other.
describe("importedSlices", () => {
  const DIR = "/book/chapters";
  const book = (chs: Record<string, string[]>, tests: Record<string, string>, self = "03") => {
    const extracts = new Map<string, ReturnType<typeof extract>>();
    for (const [n, defs] of Object.entries(chs)) {
      const abs = `${DIR}/${n}-c.md`;
      extracts.set(abs, extract(`chapters/${n}-c.md`, chapter(defs, n === self ? tests : {})));
    }
    const selfAbs = `${DIR}/${self}-c.md`;
    const ex = extracts.get(selfAbs)!;
    return (id: string) => importedSlices(selfAbs, ex.blocks.find((b) => b.id === id)!, extracts, [...extracts.keys()].sort());
  };
  const one = ["export function a() { return b(); }", "function b() { return 1; }", "export function c() { return 2; }", "export const unusedHere = () => 3;"];
  const two = ['import { a as alias, c } from "./01-c.md";', "export const u = () => alias();", "export const v = () => c();"];
  const three = ['import { u, v } from "./02-c.md";'];

  test("a block reaches an imported chapter's statements through the names the chapters import, renamed or not", () => {
    const s = book({ "01": one, "02": two, "03": three }, { T: "u();", V: "v();", N: "0;" });
    expect(s("T")).toEqual(new Map([[`${DIR}/01-c.md`, [one[0], one[1]]], [`${DIR}/02-c.md`, [two[0], two[1]]]]));
    expect(s("V")).toEqual(new Map([[`${DIR}/01-c.md`, [one[2]]], [`${DIR}/02-c.md`, [two[0], two[2]]]]));
    // Nothing named: only the import statements, which load the chapters.
    expect(s("N")).toEqual(new Map([[`${DIR}/01-c.md`, []], [`${DIR}/02-c.md`, [two[0]]]]));
  });

  test("an imported chapter's effectful statements are in every unit's slice, with what they name", () => {
    const eff = [...one, "register(c);"];
    const s = book({ "01": eff, "02": two, "03": three }, { N: "0;" });
    expect(s("N")!.get(`${DIR}/01-c.md`)).toEqual([one[2], "register(c);"]);
  });

  test("an export list and a name re-exported through an import are followed", () => {
    const s = book({ "01": ["function hidden() { return 1; }", "function other() { return 2; }", "export { hidden as shown };"], "02": ['import { shown } from "./01-c.md";', "export { shown as again };"], "03": ['import { again } from "./02-c.md";'] }, { T: "again();" });
    expect(s("T")!.get(`${DIR}/01-c.md`)).toEqual(["function hidden() { return 1; }", "export { hidden as shown };"]);
  });

  test("an export whose value at load names an unexported binding is a root: hardening the export freezes it", () => {
    const other = ["const shared = { n: 0 };", "export function bump() { return ++shared.n; }", "export const exposed = shared;", "export const table = { f: () => shared, g: bump };", "const hidden = 1;", "export class K { static s = hidden; }"];
    const s = book({ "01": other, "03": ['import { bump } from "./01-c.md";'] }, { T: "bump();" });
    // `exposed` freezes `shared`, and K freezes `hidden`; `table` names `shared` only inside a
    // function and `bump` is an export (hardened anyway).
    expect(s("T")!.get(`${DIR}/01-c.md`)).toEqual([other[0], other[1], other[2], other[4], other[5]]);
  });

  test.each([
    ["a namespace import of a chapter", { "02": ['import * as one from "./01-c.md";', "export const u = () => one.a();"] }],
    ["a default import of a chapter", { "02": ['import one from "./01-c.md";', "export const u = () => one;"] }],
    ["a re-export from a chapter", { "02": ['export { a as u } from "./01-c.md";'] }],
    ["export default", { "02": ["export default function u() { return 1; }"] }],
    ["a dynamic import", { "02": ['export const u = () => import("./01-c.md");'] }],
    ["a name the chapter does not export", { "02": ['import { b as u0 } from "./01-c.md";', "export const u = () => u0();"] }],
    ["a chapter that does not parse", { "02": ["export const u = ;"] }],
    ["a chapter that imports the unit's own chapter", { "02": ['import { w } from "./03-c.md";', "export const u = () => w;"] }],
  ])("refused, so every imported chapter counts whole: %s", (_what, over) => {
    const base: Record<string, string[]> = { "01": one, "02": two, "03": ['import { u } from "./02-c.md";', "export const w = 1;"] };
    const s = book({ ...base, ...over }, { T: "u();" });
    expect(s("T")).toBeNull();
  });
});

// build/src/load-check.ts: whether a chapter's module loads as the worker compiles it, and which
// chapters it loads, read from the emitted code.
describe("chapterLoad", () => {
  const load = (defs: string[], mode: "defs" | "run" = "defs") => chapterLoad("/book", "/book/chapters/99-slice.md", extract("chapters/99-slice.md", chapter(defs, {})), mode, null);

  test("SES's direct-eval check and an early error of the module function: TypeScript accepts both, the worker does not load them", () => {
    expect(load(["export const a = 1;"]).loads).toBe(true);
    expect(load(['const note = "never eval(x) here";']).loads).toBe(false);
    expect(load(["class Map { size = 0; }"]).loads).toBe(false);
    expect(load(["let exports = 1;"]).loads).toBe(false);
    // What sesSafe escapes loads.
    expect(load(['const arrow = "A --> B <!-- import(x)";']).loads).toBe(true);
  });

  test("the chapters it loads are those a value uses: a name used only as a type does not load its chapter", () => {
    const imp = 'import { T } from "./00-z.md";';
    expect(load([imp, "function unused(x: T) { return x; }"]).chapters).toEqual([]);
    expect(load([imp, "function unused(x = T) { return x; }"]).chapters).toEqual(["./00-z.md"]);
    expect(load(['import "./00-z.md";']).chapters).toEqual(["./00-z.md"]);
  });
});
