// Lets Vite (and so vitest) load `chapters/*.md` as TypeScript modules.
//
// The entry chapter loads in "run" mode. An import of one chapter by another resolves to
// `<file>.md?defs`, which loads in "defs" mode: the importer gets the definitions without
// re-registering the imported chapter's tests.

import { readFile } from "node:fs/promises";
import path from "node:path";
import { transformWithOxc, type Plugin } from "vite";
import { extract } from "./extract.ts";
import { tangle } from "./tangle.ts";
import { formatDiagnostic } from "./diagnostic.ts";

export const DEFS_QUERY = "?defs";

export function runtimeSpecifier(root: string, chapterFile: string): string {
  const rel = path.relative(path.dirname(chapterFile), path.join(root, "build/runtime/chapter.ts"));
  return rel.split(path.sep).join("/").replace(/^(?!\.)/, "./");
}

export function bookPlugin(root: string): Plugin {
  return {
    name: "book-chapters",
    enforce: "pre",
    resolveId(source, importer) {
      if (!importer || !source.endsWith(".md")) return null;
      const from = importer.replace(/\?.*$/, "");
      if (!from.endsWith(".md")) return null;
      return path.resolve(path.dirname(from), source) + DEFS_QUERY;
    },
    async load(id) {
      const [file, query] = id.split("?") as [string, string | undefined];
      if (!file.endsWith(".md")) return null;
      const src = await readFile(file, "utf8");
      const rel = path.relative(root, file).split(path.sep).join("/");
      const ex = extract(rel, src);
      if (ex.diagnostics.length > 0) {
        // The build reports these before running; this is for `npx vitest chapters/x.md`.
        throw new Error(ex.diagnostics.map(formatDiagnostic).join("\n"));
      }
      const ts = tangle(ex, query === "defs" ? "defs" : "run", runtimeSpecifier(root, file));
      const out = await transformWithOxc(ts, file + ".ts", { lang: "ts", sourcemap: true });
      const map = out.map ? { ...out.map, sources: [file], sourcesContent: [src] } : null;
      return { code: out.code, map };
    },
  };
}
