// The options a `ts` fence may carry after its language word, e.g. ```` ```ts id=C03.2 test ````.
// Unknown options are errors at their line: a typo such as `skp` must not silently run a block.

export interface BlockFlags {
  /** Wrapped in a vitest test of its own; dropped when another chapter imports this one. */
  test: boolean;
  /** Registered but not run (implies `test`). */
  skip: boolean;
  /** Expected to fail: passes only if it throws, fails loudly if it passes (implies `test`). */
  fails: boolean;
  /** Runs, but is not shown on the site. */
  hidden: boolean;
}

export interface ParsedOptions {
  id?: string;
  flags: BlockFlags;
  errors: { offset: number; message: string }[];
}

export const FLAG_NAMES = ["test", "skip", "fails", "hidden"] as const;
export const VALUE_NAMES = ["id"] as const;
/** Block ids appear in URLs, test names and CLI filters, so keep them to a safe alphabet. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const KNOWN = `known options are ${VALUE_NAMES.map((v) => v + "=…").join(", ")}, ${FLAG_NAMES.join(", ")}`;

/** Parses the words after the language word; `offset` in errors is the 0-based column within `rest`. */
export function parseFenceOptions(rest: string): ParsedOptions {
  const flags: BlockFlags = { test: false, skip: false, fails: false, hidden: false };
  const out: ParsedOptions = { flags, errors: [] };
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(rest))) {
    const word = m[0];
    const eq = word.indexOf("=");
    if (eq >= 0) {
      const key = word.slice(0, eq);
      const value = word.slice(eq + 1);
      if (key !== "id") {
        out.errors.push({ offset: m.index, message: `unknown fence option "${key}=" (${KNOWN})` });
      } else if (!ID_PATTERN.test(value)) {
        out.errors.push({ offset: m.index, message: `block id "${value}" must start with a letter or digit and use only letters, digits, ".", "_" and "-"` });
      } else if (out.id !== undefined) {
        out.errors.push({ offset: m.index, message: `the block has two ids ("${out.id}" and "${value}")` });
      } else {
        out.id = value;
      }
    } else if ((FLAG_NAMES as readonly string[]).includes(word)) {
      flags[word as keyof BlockFlags] = true;
    } else {
      out.errors.push({ offset: m.index, message: `unknown fence option "${word}" (${KNOWN})` });
    }
  }
  if (flags.skip || flags.fails) flags.test = true;
  if (flags.skip && flags.fails) out.errors.push({ offset: 0, message: `a block cannot be both "skip" and "fails"` });
  return out;
}
