// build/mkdocs/line_offsets.py: Python-Markdown's line_offset, computed from cached line starts,
// gives 3.4.1's own value for every line of every text, and is in place when mkdocs loads it.
// Run by Debian's python3, whose Python-Markdown mkdocs uses (scripts/setup.sh installs it).
import { execFileSync } from "node:child_process";
import path from "node:path";
import { expect, test } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const PYTHON = "/usr/bin/python3";

const CHECK = String.raw`
import random, sys
sys.path.insert(0, sys.argv[1])
import markdown, line_offsets
from markdown import htmlparser

class Extractor:
    pass

random.seed(7)
texts = ["", "a", "\n", "a\n", "\n\n", "ab\ncd", "ab\ncd\n", "x\n\ny\n\n\nz", "<div>\n</div>\n"]
texts += ["".join(random.choice("ab\n<>") for _ in range(random.randint(0, 60))) for _ in range(400)]
checked = mismatches = 0
for text in texts:
    for lineno in range(0, text.count("\n") + 4):
        e = Extractor()
        e.rawdata, e.lineno = text, lineno
        checked += 1
        if line_offsets._line_offset(e) != line_offsets.original_line_offset(e):
            mismatches += 1
# The cache follows the text: a new rawdata is a new list of line starts.
e = Extractor()
e.rawdata, e.lineno = "a\nb\nc", 3
first = line_offsets._line_offset(e)
e.rawdata = "aaaa\nb\nc"
moved = line_offsets._line_offset(e) == line_offsets.original_line_offset(e) and first == 4
applied = htmlparser.HTMLExtractor.line_offset.fget is line_offsets._line_offset
print(markdown.__version__, checked, mismatches, moved, applied)
`;

test("the cached line_offset equals Python-Markdown 3.4.1's for every line, and replaces it there", () => {
  const out = execFileSync(PYTHON, ["-c", CHECK, path.join(ROOT, "build/mkdocs")], { encoding: "utf8" }).trim();
  const [version, checked, mismatches, moved, applied] = out.split(" ");
  expect(Number(checked)).toBeGreaterThan(1000);
  expect(Number(mismatches)).toBe(0);
  expect(moved).toBe("True");
  // Replaced on the version that was read, left alone on any other.
  expect(applied).toBe(version === "3.4.1" ? "True" : "False");
});
