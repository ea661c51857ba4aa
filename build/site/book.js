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
const SCROLLERS = ".book-swimlane, .book-state-scroll, .book-splat, .book-trace, .book-src, .book-replay-cmd, .md-typeset__scrollwrap";
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

// Stepping through a witness with the machine's state (issue 16, item 2). A witness whose model
// has a view() carries data-states: the URL of its states (lib/explorer/state.ts: the state
// before step 0 in full, then per step the cells that changed), fetched on the first click. A
// swimlane row's data-state names the state after it and data-prev the one it is compared with.
// Clicking a row (not its label's source link) or ← → on the focused diagram selects a row; the
// panel below shows that state, grouped by object, with what changed since the previous step marked.
const stateCache = new Map();
function loadStates(url) {
  if (!stateCache.has(url)) {
    stateCache.set(url, fetch(url).then((r) => {
      if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
      return r.json();
    }).then((e) => {
      const out = [e.initial];
      for (const changes of e.changes) {
        const s = {};
        for (const [g, objs] of Object.entries(out[out.length - 1])) {
          s[g] = {};
          for (const [o, f] of Object.entries(objs)) s[g][o] = { ...f };
        }
        for (const [g, o, f, v] of changes) {
          if (v === null) {
            if (!s[g] || !s[g][o]) continue;
            delete s[g][o][f];
            if (Object.keys(s[g][o]).length === 0) delete s[g][o];
            if (Object.keys(s[g]).length === 0) delete s[g];
          } else ((s[g] ??= {})[o] ??= {})[f] = v;
        }
        out.push(s);
      }
      // Groups in a fixed order while stepping: as they first appear, the explorer's threads last.
      // A group that is empty at a step (every PTE zapped) still shows, as empty.
      const order = [...new Set(out.flatMap((s) => Object.keys(s)))];
      order.sort((a, b) => (a === "threads") - (b === "threads"));
      out.order = order;
      return out;
    }));
  }
  return stateCache.get(url);
}

const natural = (a, b) => a.localeCompare(b, undefined, { numeric: true });
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** One table per group: a row per object, a column per field; changed cells and rows marked. */
function renderState(panel, row, cur, prev, order) {
  panel.replaceChildren();
  const head = el("div", "book-state-head");
  const step = row.getAttribute("data-step"), thread = row.getAttribute("data-thread");
  // The whole label (the box shows it fitted): the second line of the row's tooltip.
  const label = (row.querySelector("title")?.textContent ?? "").split("\n")[1] ?? "";
  head.append(el("strong", "", `State after step ${step}`), ` · ${thread}: ${label} `,
    el("span", "book-state-legend", "changed by this step: highlighted · gone: struck through · ← → step"));
  panel.append(head);
  const groups = el("div", "book-state-groups");
  let changedCells = 0;
  for (const g of order) {
    const c = cur[g] ?? {}, p = prev[g] ?? {};
    const rows = [...new Set([...Object.keys(c), ...Object.keys(p)])].sort(natural);
    const cols = [...new Set(rows.flatMap((o) => [...Object.keys(c[o] ?? {}), ...Object.keys(p[o] ?? {})]))];
    const sec = el("section", "book-state-group");
    sec.setAttribute("data-group", g);
    sec.append(el("h4", "", g));
    if (rows.length === 0) {
      sec.classList.add("book-state-empty");
      sec.append(el("p", "book-state-none", "empty at this step"));
      groups.append(sec);
      continue;
    }
    const table = el("table", "book-state-table");
    const tr0 = el("tr");
    tr0.append(el("th", "", ""));
    for (const f of cols) tr0.append(el("th", "", f));
    table.append(el("thead"), el("tbody"));
    table.tHead.append(tr0);
    let changed = false;
    for (const o of rows) {
      const tr = el("tr");
      tr.setAttribute("data-object", o);
      const gone = !(o in c), added = !(o in p);
      if (gone) tr.classList.add("book-state-gone");
      if (added) tr.classList.add("book-state-added");
      tr.append(el("th", "", o));
      for (const f of cols) {
        const now = c[o]?.[f], before = p[o]?.[f];
        const td = el("td", "", now ?? before ?? "");
        td.setAttribute("data-field", f);
        if (now !== before) {
          td.classList.add(now === undefined ? "book-state-gone" : "book-state-changed");
          if (before !== undefined && now !== undefined) td.title = `was: ${before}`;
          changed = true;
          changedCells++;
        }
        tr.append(td);
      }
      table.tBodies[0].append(tr);
    }
    if (changed) sec.classList.add("book-state-group-changed");
    const scroll = el("div", "book-state-scroll");
    scroll.append(table);
    sec.append(scroll);
    groups.append(sec);
  }
  panel.append(groups);
  panel.setAttribute("data-step", step ?? "");
  panel.setAttribute("data-changed", String(changedCells));
  panel.querySelectorAll(".book-state-scroll").forEach((s) => { markScroller(s); observer.observe(s); });
}

/** Why the state panel is empty, in plain words, ending with what to do about it (text and code runs). */
function stateLoadError(e) {
  // Chromium and Firefox refuse fetch() from a page opened from disk: the site must be served.
  if (location.protocol === "file:")
    return ["The state of this witness is a file next to this page, and a browser does not let a page opened " +
      "from disk (file://) load it. Serve the site instead: run ", ["npm run serve"], " and open ",
      ["http://127.0.0.1:8000/"], " (the swimlane above works either way)."];
  return [`The state of this witness could not be loaded (${e.message}). Reload the page; if it still fails, rebuild the site with `,
    ["npm run build"], "."];
}

async function selectRow(witness, row, scroll) {
  witness.querySelectorAll(".sl-selected").forEach((r) => r.classList.remove("sl-selected"));
  row.classList.add("sl-selected");
  row.setAttribute("aria-current", "step");
  if (scroll) row.scrollIntoView({ block: "nearest", inline: "nearest" });
  const url = witness.getAttribute("data-states");
  const panel = witness.querySelector(".book-state");
  if (!url || !panel) return;
  panel.hidden = false;
  try {
    const states = await loadStates(url);
    if (!row.classList.contains("sl-selected")) return; // another row was selected meanwhile
    const last = states.length - 1;
    const at = (a) => Math.max(0, Math.min(last, Number(row.getAttribute(a))));
    renderState(panel, row, states[at("data-state")], states[at("data-step")], states.order);
  } catch (e) {
    panel.replaceChildren(...stateLoadError(e).map((part) => (typeof part === "string" ? part : el("code", "", part[0]))));
  }
}

const rowsOf = (witness) => [...witness.querySelectorAll("svg.swimlane g.sl-event")];
/** The row a link to the witness lands on: the first at its first interesting step (claim-view.ts). */
function firstRow(witness) {
  const rows = rowsOf(witness);
  const s = Number(witness.getAttribute("data-first-step"));
  const at = rows.filter((r) => Number(r.getAttribute("data-step")) >= s);
  return at.find((r) => r.classList.contains("sl-bad")) ?? at[0] ?? rows[rows.length - 1];
}

document.addEventListener("click", (ev) => {
  const t = ev.target instanceof Element ? ev.target : null;
  if (!t || t.closest("a")) return; // a label's link goes to its source
  const row = t.closest("svg.swimlane g.sl-event");
  const witness = row?.closest(".book-witness");
  if (row && witness) void selectRow(witness, row, false);
});

document.addEventListener("keydown", (ev) => {
  if (ev.key !== "ArrowLeft" && ev.key !== "ArrowRight") return;
  const lane = document.activeElement instanceof Element ? document.activeElement.closest(".book-swimlane") : null;
  const witness = lane?.closest(".book-witness");
  if (!witness) return;
  ev.preventDefault();
  const rows = rowsOf(witness);
  const i = rows.findIndex((r) => r.classList.contains("sl-selected"));
  const next = i < 0 ? firstRow(witness) : rows[Math.max(0, Math.min(rows.length - 1, i + (ev.key === "ArrowRight" ? 1 : -1)))];
  if (next) void selectRow(witness, next, true);
});

/** A link to a claim (the scoreboard's, the index's) opens its witness at its first interesting step. */
function landOnWitness() {
  const id = decodeURIComponent(location.hash.slice(1));
  const claim = id ? document.getElementById(id) : null;
  const witness = claim?.classList.contains("book-claim") ? claim.querySelector(".book-witness") : null;
  const row = witness ? firstRow(witness) : null;
  if (!row) return;
  void selectRow(witness, row, false).then(() => row.scrollIntoView({ block: "center" }));
}
if (window.document$) window.document$.subscribe(landOnWitness);
else document.addEventListener("DOMContentLoaded", landOnWitness);
window.addEventListener("hashchange", landOnWitness);
