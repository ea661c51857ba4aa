// build/src/site.ts unwrapWhitespace: pygments' whitespace spans go, the code's text stays.
import { describe, expect, it } from "vitest";
import { unwrapWhitespace } from "../../build/src/site.ts";

describe("unwrapWhitespace", () => {
  it("unwraps pygments' whitespace spans, single and multi-line, and keeps every other span", () => {
    const html = '<code><span class="k">const</span><span class="w"> </span><span class="nx">x</span><span class="w">\n    </span><span class="o">=</span><span class="w"></span>1;</code>';
    expect(unwrapWhitespace(html)).toBe('<code><span class="k">const</span> <span class="nx">x</span>\n    <span class="o">=</span>1;</code>');
  });

  it("leaves the book's own text alone: an escaped span, or a span with more classes", () => {
    const html = '<p>&lt;span class="w"&gt; &lt;/span&gt;</p><span class="w x"> </span>';
    expect(unwrapWhitespace(html)).toBe(html);
  });

  it("changes no text a reader sees: the same characters, tags aside", () => {
    const html = '<pre><span></span><code>  <span class="k">if</span><span class="w"> </span>(a)<span class="w">  </span>{}\n</code></pre>';
    const text = (h: string) => h.replace(/<[^>]*>/g, "");
    expect(text(unwrapWhitespace(html))).toBe(text(html));
  });
});
