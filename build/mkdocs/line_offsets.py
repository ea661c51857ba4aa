"""Makes Python-Markdown 3.4.1's raw-HTML pass linear in the page instead of quadratic.

Its HTMLExtractor finds the start of the current line (line_offset) by matching a regular
expression over every line before it, and asks for it at every end tag of a raw HTML block. A
chapter page carries its claims' views as raw HTML (swimlanes are SVG: thousands of end tags, deep
into a page of thousands of lines), so this one property took 9 of mkdocs's 23 s (cProfile,
December 2026). Here the line starts of the text being parsed are computed once and looked up:
the same value for every line, so the same pages. Applied to 3.4.1 only, the version Debian 12
ships and the one read; any other version is left as it is.
"""

import markdown
from markdown import htmlparser

_READ = (3, 4, 1)


def _line_offset(self):
    """Char index in self.rawdata of the start of line self.lineno, as 3.4.1 computes it."""
    raw = self.rawdata
    if self.lineno <= 1 or "\n" not in raw:
        return 0
    cached = getattr(self, "_book_line_starts", None)
    if cached is None or cached[0] is not raw:
        starts = [0]
        i = raw.find("\n")
        while i >= 0:
            starts.append(i + 1)
            i = raw.find("\n", i + 1)
        cached = (raw, starts)
        self._book_line_starts = cached
    starts = cached[1]
    n = self.lineno - 1
    # 3.4.1: the end of the (lineno - 1)th newline, or, past the last line, the last newline.
    return starts[n] if n < len(starts) else raw.rfind("\n")


_original = htmlparser.HTMLExtractor.line_offset


def original_line_offset(extractor):
    """3.4.1's own computation (test/build/line-offsets.test.ts compares the two)."""
    return _original.fget(extractor)


if tuple(markdown.__version_info__[:3]) == _READ:
    htmlparser.HTMLExtractor.line_offset = property(_line_offset, doc=_original.__doc__)
