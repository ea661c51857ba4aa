"""Keeps the regions a chapter page marks as unsearched out of the search index, not off the page.

build/src/claim-view.ts wraps each witness's swimlane and text trace in
<!--book:unsearched--> ... <!--/book:unsearched--> (it says why). mkdocs's search plugin indexes
page.content in on_page_context, which comes after on_page_content: this hook swaps each marked
region for a numbered comment there (the search plugin's parser reads no text in a comment) and
puts the region back into the finished page in on_post_page, so the HTML a reader gets is the
HTML the build wrote.
"""

import re

_REGION = re.compile(r"<!--book:unsearched-->.*?<!--/book:unsearched-->", re.S)
_HELD = re.compile(r"<!--book:held:(\d+)-->")

# Regions taken out of each page, by source path, from on_page_content to on_post_page.
_held = {}


def on_page_content(html, page, config, files):
    regions = []

    def hold(match):
        regions.append(match.group(0))
        return f"<!--book:held:{len(regions) - 1}-->"

    content = _REGION.sub(hold, html)
    _held[page.file.src_path] = regions
    return content


def on_post_page(output, page, config):
    regions = _held.pop(page.file.src_path, [])
    if not regions:
        return output
    restored = _HELD.sub(lambda match: regions[int(match.group(1))], output)
    if _HELD.search(restored) is not None or restored.count("<!--book:unsearched-->") != len(regions):
        raise RuntimeError(f"unsearched.py: {page.file.src_path}: a held region did not come back into the page")
    return restored
