// Edits that change what a unit records must change its key (hash.ts unitHash): each case below
// builds a small book with the unit cache, edits it, and builds it again with that cache and with
// none; the two must show the same. Each edit is to a statement no block names, which the slices
// (slice.ts, import-slice.ts) leave out of the key, or a line another block moves, and each once
// served a stale result (found by a second review of the cross-chapter slice, December 2026, after
// stale-keys.test.ts's fixes; none occurred in the book).
import { test } from "vitest";
import { md, staleCheck } from "./stale-check.ts";

test("imported chapter: an unreached `function Object` shadows the wrapper parameter the emitted prelude uses", async () => {
  const other = (extra: string) => md("Other", `export function f(): number { return 1; }\n${extra}`);
  const units = md("Units", 'import { f } from "./00-other.md";', { T: "f();" });
  await staleCheck("stale-keys-2", "object-shadow", { "00-other.md": other(""), "01-units.md": units }, { "00-other.md": other("function Object(): void {}") }, "01-units.md");
});

test("own chapter: an unreached `function Object`", async () => {
  const units = (extra: string) => md("Units", `export function f(): number { return 1; }\n${extra}`, { T: "f();" });
  await staleCheck("stale-keys-2", "object-own", { "01-units.md": units("") }, { "01-units.md": units("function Object(): void {}") }, "01-units.md");
});

test("an unreached string SES reads as an import expression (`import (`)", async () => {
  const other = (extra: string) => md("Other", `export function f(): number { return 1; }\n${extra}`);
  const units = md("Units", 'import { f } from "./00-other.md";', { T: "f();" });
  await staleCheck("stale-keys-2", "ses-import", { "00-other.md": other(""), "01-units.md": units }, { "00-other.md": other('const note = "see import (x)";') }, "01-units.md");
});

test("an import of the empty specifier is skipped as if it were the runtime prelude", async () => {
  const other = (extra: string) => md("Other", `export function f(): number { return 1; }\n${extra}`);
  const units = md("Units", 'import { f } from "./00-other.md";', { T: "f();" });
  await staleCheck("stale-keys-2", "empty-spec", { "00-other.md": other(""), "01-units.md": units }, { "00-other.md": other('import "";') }, "01-units.md");
});

test("another test block's emitted line count moves the raw stack a message names", async () => {
  const units = (t1: string) => md("Units", 'import { guarded } from "../../../lib/explorer/guard.ts";', { T1: t1, T2: "guarded(() => Date.now());" });
  await staleCheck("stale-keys-2", "raw-lines", { "01-units.md": units("1;") }, { "01-units.md": units("1; 2; 3;") }, "01-units.md");
});

test("while the imported chapter has a type error: `import { type X }` from lib counts X as initialized", async () => {
  const other = (init: string) => md("Other", `import { type guarded } from "../../../lib/explorer/guard.ts";\nexport function f(): number { return 1; }\nconst c = ${init};`);
  const units = md("Units", 'import { f } from "./00-other.md";', { T: "f();" });
  await staleCheck("stale-keys-2", "type-only-element", { "00-other.md": other("1"), "01-units.md": units }, { "00-other.md": other("guarded.name") }, "01-units.md");
});
