// The result cache's key: a chapter is re-run when it, anything it imports (transitively), or
// an earlier chapter it imports changes, and only then.
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "vitest";
import { extract } from "../../build/src/extract.ts";
import { chapterHash, SourceCache } from "../../build/src/hash.ts";

function book(files: Record<string, string>) {
  const root = mkdtempSync(path.join(tmpdir(), "hash-"));
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), text);
  }
  const src = new Map<string, string>();
  const ex = new Map<string, ReturnType<typeof extract>>();
  for (const f of Object.keys(files).filter((f) => f.startsWith("chapters/"))) {
    src.set(path.join(root, f), files[f]!);
    ex.set(path.join(root, f), extract(f, files[f]!));
  }
  const hash = (ch: string) => chapterHash(root, ex.get(path.join(root, ch))!, src.get(path.join(root, ch))!, ex, "tools", new SourceCache(src));
  return { hash };
}

const base = {
  "chapters/01-a.md": "# A\n\n```ts\nexport { a } from \"../lib/a.ts\";\n```\n",
  "chapters/02-b.md": "# B\n\n```ts\nimport { a } from \"./01-a.md\";\n```\n",
  "lib/a.ts": "export { b as a } from \"./b.ts\";\n",
  "lib/b.ts": "export const b = 1;\n",
  "lib/unrelated.ts": "export const u = 1;\n",
};

test("a change two imports deep re-keys both chapters; an unrelated file re-keys neither", () => {
  const before = book(base);
  const deep = book({ ...base, "lib/b.ts": "export const b = 2;\n" });
  const other = book({ ...base, "lib/unrelated.ts": "export const u = 2;\n" });
  for (const ch of ["chapters/01-a.md", "chapters/02-b.md"]) {
    expect(deep.hash(ch)).not.toBe(before.hash(ch));
    expect(other.hash(ch)).toBe(before.hash(ch));
  }
});

test("editing an earlier chapter re-keys the chapter that imports it, not the other way round", () => {
  const before = book(base);
  const a2 = "# A\n\n```ts\nexport { a } from \"../lib/a.ts\";\nexport const x = 1;\n```\n";
  const b2 = "# B\n\n```ts\nimport { a } from \"./01-a.md\";\nconst y = a;\n```\n";
  expect(book({ ...base, "chapters/01-a.md": a2 }).hash("chapters/02-b.md")).not.toBe(before.hash("chapters/02-b.md"));
  expect(book({ ...base, "chapters/02-b.md": b2 }).hash("chapters/01-a.md")).toBe(before.hash("chapters/01-a.md"));
});

test("the tool hash covers what makes results (the pipeline, the sandbox, the runtime, the lockfile), not what renders them", async () => {
  const { toolHash, RESULT_ENTRIES } = await import("../../build/src/hash.ts");
  const root = mkdtempSync(path.join(tmpdir(), "tools-"));
  const files: Record<string, string> = {
    "package-lock.json": "{}",
    "build/src/pipeline.ts": 'import { x } from "./stage.ts";\n',
    "build/src/stage.ts": "export const x = 1;\n",
    "build/src/sandbox/worker.ts": 'import "./heartbeat.ts";\n',
    "build/src/sandbox/heartbeat.ts": "export {};\n",
    "build/runtime/chapter.ts": "export {};\n",
    "build/src/render.ts": "export const r = 1;\n",
  };
  const write = (f: string, t: string) => { mkdirSync(path.dirname(path.join(root, f)), { recursive: true }); writeFileSync(path.join(root, f), t); };
  for (const [f, t] of Object.entries(files)) write(f, t);
  expect(RESULT_ENTRIES).toContain("build/src/sandbox/worker.ts");
  const before = toolHash(root);
  write("build/src/render.ts", "export const r = 2;\n");
  expect(toolHash(root)).toBe(before);
  for (const f of ["build/src/stage.ts", "build/src/sandbox/heartbeat.ts", "build/runtime/chapter.ts", "package-lock.json"]) {
    write(f, files[f] + "// changed\n");
    expect(toolHash(root), f).not.toBe(before);
    write(f, files[f]!);
  }
  expect(toolHash(root)).toBe(before);
});
