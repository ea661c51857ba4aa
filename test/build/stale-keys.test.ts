// Edits that change what a unit records must change its key (hash.ts unitHash): each case below
// builds a small book with the unit cache, edits it, and builds it again with that cache and with
// none; the two must show the same. Each edit is to a statement no block names, which the slices
// (slice.ts, import-slice.ts) leave out of the key, and each once served a stale "passed" (found
// by a review of the cross-chapter slice, December 2026; none occurred in the book).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "vitest";
import { build } from "../../build/src/pipeline.ts";
import { ModuleCompiler } from "../../build/src/sandbox/modules.ts";
import { ChapterTypeChecker } from "../../build/src/typecheck.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const WORK = path.join(ROOT, "test-results/stale-keys");
const md = (title: string, defs: string, tests: Record<string, string> = {}) =>
  [`# ${title}`, "", "```ts", defs, "```", "", ...Object.entries(tests).flatMap(([id, code]) => [`\`\`\`ts test id=${id}`, code, "```", ""])].join("\n");

// One type checker and compiler for every build here, as watch mode keeps them (about twice as fast).
const session = { checker: new ChapterTypeChecker(ROOT), compiler: new ModuleCompiler(ROOT, new Map(), null) };

/** Build `before` with a cache, then `after` with the same cache and with none: the unit chapter must look the same. */
async function staleCheck(name: string, before: Record<string, string>, after: Record<string, string>, unitFile: string) {
  const dir = path.join(WORK, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const once = async (files: Record<string, string>, cacheDir: string | null) => {
    for (const [f, t] of Object.entries(files)) writeFileSync(path.join(dir, f), t);
    const ran: string[] = [];
    const out = await build({ root: ROOT, chaptersDir: dir, resultsFile: path.join(dir, cacheDir ? "r.json" : "fresh.json"), cacheDir, session, onUnit: (u) => { if (u.file.endsWith(unitFile)) ran.push(u.block ?? ""); } });
    const ch = out.results.chapters.find((c) => c.file.endsWith(unitFile))!;
    const view = JSON.stringify({ status: ch.status, diags: ch.diagnostics.map((d) => d.message), blocks: ch.blocks.map((b) => [b.id, b.status, b.failure?.message ?? null]) });
    return { ran, view, all: out.results.chapters.map((c) => [c.file, c.status, c.diagnostics.map((d) => d.message)]) };
  };
  const first = await once(before, path.join(dir, "cache"));
  const cached = await once(after, path.join(dir, "cache"));
  const fresh = await once(after, null);
  // The edit matters: a build without a cache shows something else than before it.
  expect(fresh.view).not.toBe(first.view);
  return { first, cached, fresh };
}

test("an unreached export hardens an object a reached function mutates", async () => {
  const other = (extra: string) => md("Other", `const shared = { n: 0 };\nexport function bump(): number { shared.n++; return shared.n; }\n${extra}`);
  const units = md("Units", 'import { bump } from "./00-other.md";', { T: 'if (bump() !== 1) throw new Error("bump");' });
  const r = await staleCheck("harden", { "00-other.md": other(""), "01-units.md": units }, { "00-other.md": other("export const exposed = shared;") }, "01-units.md");
  expect(r.cached.view).toBe(r.fresh.view);
});

test("an unreached inert `const y = o.x` runs a getter of another chapter at load", async () => {
  const b = (body: string) => md("B", `export const o = { get x(): number { ${body} } };`);
  const a = md("A", 'import { o } from "./00-b.md";\nconst y = o.x;\nexport function f(): number { return 2; }');
  const units = md("Units", 'import { f } from "./01-a.md";', { T: "f();" });
  const r = await staleCheck("getter", { "00-b.md": b("return 1;"), "01-a.md": a, "02-units.md": units }, { "00-b.md": b('throw new Error("getter");') }, "02-units.md");
  expect(r.cached.view).toBe(r.fresh.view);
});

test("an unreached string that SES refuses (eval( in a literal)", async () => {
  const other = (extra: string) => md("Other", `export function f(): number { return 1; }\n${extra}`);
  const units = md("Units", 'import { f } from "./00-other.md";', { T: "f();" });
  const r = await staleCheck("ses-eval", { "00-other.md": other(""), "01-units.md": units }, { "00-other.md": other('const note = "never eval(x) here";') }, "01-units.md");
  expect(r.cached.view).toBe(r.fresh.view);
});

test("an unreached class named like a wrapper parameter (class Map) is an early SyntaxError", async () => {
  const other = (extra: string) => md("Other", `export function f(): number { return 1; }\n${extra}`);
  const units = md("Units", 'import { f } from "./00-other.md";', { T: "f();" });
  const r = await staleCheck("early-error", { "00-other.md": other(""), "01-units.md": units }, { "00-other.md": other("class Map { size = 0; }") }, "01-units.md");
  expect(r.cached.view).toBe(r.fresh.view);
});

test("an unreached use moving from a type position to a value position un-elides an import", async () => {
  const z = md("Z", 'export interface T { a: number }\nexport const T = { a: 1 };\nthrow new Error("Z loaded");');
  const a = (unused: string) => md("A", `import { T } from "./00-z.md";\n${unused}\nexport function f(): number { return 1; }`);
  const units = md("Units", 'import { f } from "./01-a.md";', { T: "f();" });
  const r = await staleCheck("elision", { "00-z.md": z, "01-a.md": a("function unused(x: T): void {}"), "02-units.md": units }, { "01-a.md": a("function unused(x = T): void {}") }, "02-units.md");
  expect(r.cached.view).toBe(r.fresh.view);
});

test("require() through the CommonJS wrapper's parameter reaches a chapter by property name", async () => {
  const b = (v: string) => md("B", `export function g(): number { return ${v}; }`);
  const a = md("A", 'declare function require(id: string): any;\nexport function f(): number { return require("./00-b.md").g(); }');
  const units = md("Units", 'import { f } from "./01-a.md";', { T: 'if (f() !== 1) throw new Error("g changed");' });
  const r = await staleCheck("require", { "00-b.md": b("1"), "01-a.md": a, "02-units.md": units }, { "00-b.md": b("2") }, "02-units.md");
  expect(r.cached.view).toBe(r.fresh.view);
});

test("own chapter: an unreached `const y = o.x` whose getter lives in an imported chapter", async () => {
  const b = (body: string) => md("B", `export const o = { get x(): number { ${body} } };`);
  const units = md("Units", 'import { o } from "./00-b.md";\nconst y = o.x;', { T: "1;" });
  const r = await staleCheck("getter-own", { "00-b.md": b("return 1;"), "01-units.md": units }, { "00-b.md": b('throw new Error("getter");') }, "01-units.md");
  expect(r.cached.view).toBe(r.fresh.view);
});

test("own chapter: an unreached string SES refuses", async () => {
  const units = (extra: string) => md("Units", `export function f(): number { return 1; }\n${extra}`, { T: "f();" });
  const r = await staleCheck("ses-own", { "01-units.md": units("") }, { "01-units.md": units('const note = "never eval(x) here";') }, "01-units.md");
  expect(r.cached.view).toBe(r.fresh.view);
});
