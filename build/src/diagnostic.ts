// One problem found in a chapter, at a Markdown position. Every stage reports through this
// shape so the terminal, results.json and the site all show the same file:line:col.

export type Stage = "extract" | "import" | "typecheck" | "run" | "render";

export interface Diagnostic {
  /** Path relative to the project root, with forward slashes: `chapters/03-x.md`. */
  file: string;
  /** 1-based Markdown line. */
  line: number;
  /** 1-based column on that Markdown line. */
  col: number;
  stage: Stage;
  /** `TS2322` for TypeScript errors, otherwise a short kebab-case name such as `unknown-option`. */
  code: string;
  /** One plain sentence. */
  message: string;
}

/**
 * The greppable form an editor's problem matcher reads: `file:line:col - error CODE: message`
 * (`- warning CODE:` for a chapter's warnings, which never fail the build).
 */
export const formatDiagnostic = (d: Diagnostic): string => format(d, "error");
export const formatWarning = (d: Diagnostic): string => format(d, "warning");

function format(d: Diagnostic, severity: "error" | "warning"): string {
  return `${d.file}:${d.line}:${d.col} - ${severity} ${d.code}: ${d.message}`;
}
