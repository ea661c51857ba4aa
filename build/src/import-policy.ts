// Which modules a chapter may import. Doc PRs come from strangers and CI runs their code, so a
// chapter reaches only the simulated machine in lib/, earlier chapters, and this allowlist.

import path from "node:path";

/** Bare package names chapters may import. Keep it short: every entry is code CI will run. */
export const ALLOWED_PACKAGES: readonly string[] = [];

export interface ImportVerdict {
  ok: boolean;
  /** Why not, as one plain sentence ending with what to do instead. */
  reason?: string;
}

/**
 * @param root        project root (absolute)
 * @param chapterAbs  absolute path of the importing chapter
 * @param specifier   the module specifier as written
 * @param chapterOrder absolute paths of all chapters of the book, in reading order
 */
export function checkImport(root: string, chapterAbs: string, specifier: string, chapterOrder: readonly string[]): ImportVerdict {
  if (specifier.startsWith("node:") || NODE_BUILTINS.has(specifier.split("/")[0]!)) {
    return { ok: false, reason: `chapters cannot import the Node module "${specifier}"; model the behaviour in lib/ instead` };
  }
  if (!specifier.startsWith(".") && !specifier.startsWith("/")) {
    if (ALLOWED_PACKAGES.includes(specifier)) return { ok: true };
    return { ok: false, reason: `"${specifier}" is not on the chapter import allowlist (build/src/import-policy.ts); import from lib/ or an earlier chapter` };
  }
  const target = path.resolve(path.dirname(chapterAbs), specifier);
  if (target.endsWith(".md")) {
    const mine = chapterOrder.indexOf(chapterAbs);
    const theirs = chapterOrder.indexOf(target);
    if (theirs < 0) return { ok: false, reason: `"${specifier}" is not a chapter of this book` };
    if (theirs === mine) return { ok: false, reason: `a chapter cannot import itself` };
    if (theirs > mine) {
      return { ok: false, reason: `"${specifier}" comes later in the book, so importing it would make a cycle or a forward reference; move the shared definition to the earlier chapter or to lib/` };
    }
    return { ok: true };
  }
  const lib = path.join(root, "lib") + path.sep;
  if (target.startsWith(lib)) return { ok: true };
  return { ok: false, reason: `"${specifier}" is outside lib/; chapters may import only lib/, earlier chapters and the allowlist in build/src/import-policy.ts` };
}

const NODE_BUILTINS = new Set([
  "assert", "async_hooks", "buffer", "child_process", "cluster", "console", "crypto", "dgram", "dns",
  "events", "fs", "http", "http2", "https", "inspector", "module", "net", "os", "path", "perf_hooks",
  "process", "querystring", "readline", "repl", "stream", "string_decoder", "timers", "tls", "tty",
  "url", "util", "v8", "vm", "wasi", "worker_threads", "zlib",
]);
