// Edits that change what a unit records must change its key (hash.ts unitHash): each case below
// builds a small book with the unit cache, edits it, and builds it again with that cache and with
// none; the two must show the same. Each edit is to a statement no block names, which the slices
// (slice.ts, import-slice.ts) leave out of the key, and each once served a stale "passed" (found
// by a review of the cross-chapter slice, December 2026; none occurred in the book).
import { test } from "vitest";
import { md, staleCheck } from "./stale-check.ts";

test("an unreached export hardens an object a reached function mutates", async () => {
  const other = (extra: string) => md("Other", `const shared = { n: 0 };\nexport function bump(): number { shared.n++; return shared.n; }\n${extra}`);
  const units = md("Units", 'import { bump } from "./00-other.md";', { T: 'if (bump() !== 1) throw new Error("bump");' });
  await staleCheck("stale-keys", "harden", { "00-other.md": other(""), "01-units.md": units }, { "00-other.md": other("export const exposed = shared;") }, "01-units.md");
});

test("an unreached inert `const y = o.x` runs a getter of another chapter at load", async () => {
  const b = (body: string) => md("B", `export const o = { get x(): number { ${body} } };`);
  const a = md("A", 'import { o } from "./00-b.md";\nconst y = o.x;\nexport function f(): number { return 2; }');
  const units = md("Units", 'import { f } from "./01-a.md";', { T: "f();" });
  await staleCheck("stale-keys", "getter", { "00-b.md": b("return 1;"), "01-a.md": a, "02-units.md": units }, { "00-b.md": b('throw new Error("getter");') }, "02-units.md");
});

test("an unreached string that SES refuses (eval( in a literal)", async () => {
  const other = (extra: string) => md("Other", `export function f(): number { return 1; }\n${extra}`);
  const units = md("Units", 'import { f } from "./00-other.md";', { T: "f();" });
  await staleCheck("stale-keys", "ses-eval", { "00-other.md": other(""), "01-units.md": units }, { "00-other.md": other('const note = "never eval(x) here";') }, "01-units.md");
});

test("an unreached class named like a wrapper parameter (class Map) is an early SyntaxError", async () => {
  const other = (extra: string) => md("Other", `export function f(): number { return 1; }\n${extra}`);
  const units = md("Units", 'import { f } from "./00-other.md";', { T: "f();" });
  await staleCheck("stale-keys", "early-error", { "00-other.md": other(""), "01-units.md": units }, { "00-other.md": other("class Map { size = 0; }") }, "01-units.md");
});

test("an unreached use moving from a type position to a value position un-elides an import", async () => {
  const z = md("Z", 'export interface T { a: number }\nexport const T = { a: 1 };\nthrow new Error("Z loaded");');
  const a = (unused: string) => md("A", `import { T } from "./00-z.md";\n${unused}\nexport function f(): number { return 1; }`);
  const units = md("Units", 'import { f } from "./01-a.md";', { T: "f();" });
  await staleCheck("stale-keys", "elision", { "00-z.md": z, "01-a.md": a("function unused(x: T): void {}"), "02-units.md": units }, { "01-a.md": a("function unused(x = T): void {}") }, "02-units.md");
});

test("require() through the CommonJS wrapper's parameter reaches a chapter by property name", async () => {
  const b = (v: string) => md("B", `export function g(): number { return ${v}; }`);
  const a = md("A", 'declare function require(id: string): any;\nexport function f(): number { return require("./00-b.md").g(); }');
  const units = md("Units", 'import { f } from "./01-a.md";', { T: 'if (f() !== 1) throw new Error("g changed");' });
  await staleCheck("stale-keys", "require", { "00-b.md": b("1"), "01-a.md": a, "02-units.md": units }, { "00-b.md": b("2") }, "02-units.md");
});

test("own chapter: an unreached `const y = o.x` whose getter lives in an imported chapter", async () => {
  const b = (body: string) => md("B", `export const o = { get x(): number { ${body} } };`);
  const units = md("Units", 'import { o } from "./00-b.md";\nconst y = o.x;', { T: "1;" });
  await staleCheck("stale-keys", "getter-own", { "00-b.md": b("return 1;"), "01-units.md": units }, { "00-b.md": b('throw new Error("getter");') }, "01-units.md");
});

test("own chapter: an unreached string SES refuses", async () => {
  const units = (extra: string) => md("Units", `export function f(): number { return 1; }\n${extra}`, { T: "f();" });
  await staleCheck("stale-keys", "ses-own", { "01-units.md": units("") }, { "01-units.md": units('const note = "never eval(x) here";') }, "01-units.md");
});
