// Stack frames of code that ran in a chapter's worker, mapped back to the chapter's Markdown
// lines (a tangled chapter's line N is Markdown line N) and to lib/'s TypeScript lines.

import { TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
import type { ChapterBundle } from "./modules.ts";
import type { Frame } from "./protocol.ts";

const FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/;

export class StackMapper {
  private readonly maps = new Map<string, TraceMap | null>();

  constructor(private readonly bundle: ChapterBundle) {}

  /** Every frame of a stack that belongs to a module of the bundle, mapped to its source. */
  frames(stack: string | undefined): Frame[] {
    const out: Frame[] = [];
    for (const l of (stack ?? "").split("\n")) {
      const m = FRAME.exec(l);
      if (!m) continue;
      const mod = this.bundle.modules[m[1]!];
      if (!mod) continue;
      const line = Number(m[2]), col = Number(m[3]);
      const mapped = this.map(mod.id, mod.map, line, col);
      if (mapped) out.push({ file: mod.file, line: mapped.line, col: mapped.col });
    }
    return out;
  }

  /** The first chapter line on a stack. */
  chapterFrame(stack: string | undefined): Frame | null {
    return this.frames(stack).find((f) => f.file.endsWith(".md")) ?? null;
  }

  /** Where a thrown value was thrown: for a model error, the original exception's own stack. */
  throwFrame(e: unknown): Frame | null {
    const cause = causeOf(e);
    return (cause !== undefined ? this.chapterFrame(stackOf(cause)) : null) ?? this.chapterFrame(stackOf(e));
  }

  /** The chapter line that called into lib/ (e.g. the `claim(` that ran the model), if it differs from the throw's. */
  callerFrame(e: unknown): Frame | null {
    const at = this.throwFrame(e);
    const outer = this.chapterFrame(stackOf(e));
    return outer && at && (outer.line !== at.line || outer.file !== at.file) ? outer : null;
  }

  private map(id: string, json: string, line: number, col: number): { line: number; col: number } | null {
    let tm = this.maps.get(id);
    if (tm === undefined) {
      tm = json ? new TraceMap(json) : null;
      this.maps.set(id, tm);
    }
    // The worker's wrapper head takes the first line (worker.ts); the maps know nothing of it.
    if (!tm) return { line: line - 1, col };
    const p = originalPositionFor(tm, { line: line - 1, column: Math.max(0, col - 1) });
    return p.line === null ? null : { line: p.line, col: p.column + 1 };
  }
}

function causeOf(e: unknown): unknown {
  try {
    return e !== null && typeof e === "object" && "cause" in e ? (e as { cause: unknown }).cause : undefined;
  } catch {
    return undefined;
  }
}

function stackOf(e: unknown): string | undefined {
  try {
    return e !== null && typeof e === "object" && typeof (e as { stack?: unknown }).stack === "string" ? (e as { stack: string }).stack : undefined;
  } catch {
    return undefined;
  }
}
