// The copy buttons of replay commands. Local script; the site loads nothing from other hosts.
document.addEventListener("click", async (ev) => {
  const button = ev.target instanceof Element ? ev.target.closest(".book-copy") : null;
  if (!button) return;
  const text = button.getAttribute("data-copy") || "";
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  button.textContent = "copied";
  setTimeout(() => (button.textContent = "copy"), 1500);
});

// Boxes wider than the page scroll sideways inside themselves: mark each one that does, and say so
// above it, so that a reader knows there is more (test/site/fit.spec.ts checks this by geometry).
const SCROLLERS = ".book-swimlane, .book-splat, .book-trace, .book-src, .book-replay-cmd, .md-typeset__scrollwrap";
const HINT = "⇆ wider than the page: scroll sideways for the rest";
function markScroller(el) {
  const scrolls = el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0;
  el.classList.toggle("book-scrolls", scrolls);
  const hint = el.previousElementSibling && el.previousElementSibling.classList.contains("book-scroll-hint") ? el.previousElementSibling : null;
  if (scrolls && !hint && !el.classList.contains("book-replay-cmd")) {
    const p = document.createElement("p");
    p.className = "book-scroll-hint";
    p.textContent = HINT;
    el.before(p);
  } else if (!scrolls && hint) hint.remove();
}
const observer = new ResizeObserver((entries) => entries.forEach((e) => markScroller(e.target)));
function scanScrollers() {
  observer.disconnect();
  document.querySelectorAll(SCROLLERS).forEach((el) => { markScroller(el); observer.observe(el); });
}
// Material's instant navigation swaps pages without a reload and announces each on document$.
if (window.document$) window.document$.subscribe(scanScrollers);
else document.addEventListener("DOMContentLoaded", scanScrollers);
