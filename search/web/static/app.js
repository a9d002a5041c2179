// procsearch search page: search as you type, facets, pages, record pages.
// Page text is untrusted: it only ever reaches the document as text nodes (textContent,
// createTextNode), never as markup. The state lives in the URL, so every view can be shared.
"use strict";

const API = "/api/v1";
const LIMIT = 10;
const SEARCH_DELAY = 200;   // ms after the last keystroke
const SUGGEST_DELAY = 80;

const $ = (id) => document.getElementById(id);
const box = $("q");
const list = $("suggestions");
let searchTimer = 0, suggestTimer = 0;
let searchAbort = null, suggestAbort = null;
let suggestions = [], active = -1;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v; else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

function status(...parts) {
  const node = $("status");
  clear(node);
  for (const p of parts) node.append(p instanceof Node ? p : document.createTextNode(p));
}

// -- state in the URL ---------------------------------------------------------------------------

function stateFromUrl() {
  const p = new URLSearchParams(location.search);
  return { q: p.get("q") || "", system: p.get("system") || "", section: p.get("section") || "",
           page: Math.max(1, parseInt(p.get("page") || "1", 10) || 1) };
}

function searchUrl(state) {
  const p = new URLSearchParams();
  if (state.q) p.set("q", state.q);
  if (state.system) p.set("system", state.system);
  if (state.section) p.set("section", state.section);
  if (state.page > 1) p.set("page", String(state.page));
  const s = p.toString();
  return "/" + (s ? "?" + s : "");
}

function go(url, replace) {
  if (replace) history.replaceState(null, "", url); else history.pushState(null, "", url);
  route();
}

// Same-origin links inside the page are followed without reloading.
document.addEventListener("click", (event) => {
  const a = event.target.closest("a[data-nav]");
  if (!a || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  go(a.getAttribute("href"), false);
  if (a.dataset.nav === "focus-main") $("main").focus();
});

window.addEventListener("popstate", route);

function route() {
  const m = location.pathname.match(/^\/code\/(.+)$/);
  if (m) { showRecord(decodeURIComponent(m[1])); return; }
  const state = stateFromUrl();
  if (box.value !== state.q && document.activeElement !== box) box.value = state.q;
  showSearch(state);
}

// -- fetching -----------------------------------------------------------------------------------

async function getJson(url, signal) {
  const response = await fetch(url, { signal, headers: { Accept: "application/json" } });
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    const err = new Error((body && body.error) || `HTTP ${response.status}`);
    err.status = response.status;
    throw err;
  }
  return body;
}

// -- search view --------------------------------------------------------------------------------

async function showSearch(state) {
  $("record-view").hidden = true;
  $("search-view").hidden = false;
  document.title = state.q ? `${state.q} - procsearch` : "procsearch";
  if (searchAbort) searchAbort.abort();
  if (!state.q.trim()) {
    clear($("hits")); clear($("pager")); $("facets").hidden = true;
    $("search-view").classList.add("nofacets");
    status("Type a procedure, a symptom, an abbreviation or a code.");
    return;
  }
  searchAbort = new AbortController();
  const p = new URLSearchParams({ q: state.q, limit: String(LIMIT), offset: String((state.page - 1) * LIMIT) });
  if (state.system) p.set("system", state.system);
  if (state.section) p.set("section", state.section);
  let data;
  try {
    data = await getJson(`${API}/search?${p}`, searchAbort.signal);
  } catch (err) {
    if (err.name === "AbortError") return;
    clear($("hits")); clear($("pager")); $("facets").hidden = true;
    status(err.message);
    return;
  }
  renderResults(state, data);
}

function renderResults(state, data) {
  const hits = $("hits");
  clear(hits);
  const first = data.offset + 1, last = data.offset + data.hits.length;
  const parts = [];
  if (data.corrected_query) {
    parts.push(el("span", { class: "correction" }, "Showing results for ", el("strong", {}, data.corrected_query), ". "));
  }
  const matched = Math.max(data.matched || 0, data.total);
  if (data.hits.length) {
    const listed = matched > data.total ? ` the best ${data.total.toLocaleString()} are listed;` : "";
    parts.push(`${matched.toLocaleString()} page${matched === 1 ? "" : "s"} match;${listed} showing ${first}\u2013${last}.`);
  } else if (matched > 0) {
    parts.push(`${matched.toLocaleString()} page${matched === 1 ? "" : "s"} match, but only the best ` +
               `${data.total.toLocaleString()} are listed; refine the query.`);
  } else {
    parts.push("No results.");
    if (data.suggestions && data.suggestions.length) {
      parts.push(" Did you mean ");
      data.suggestions.slice(0, 3).forEach((s, i) => {
        if (i) parts.push(" or ");
        parts.push(el("a", { href: searchUrl({ q: s, page: 1 }), "data-nav": "" }, s));
      });
      parts.push("?");
    }
  }
  status(...parts);
  data.hits.forEach((hit, i) => hits.append(renderHit(hit, data.offset + i + 1)));
  hits.setAttribute("start", String(first));
  renderFacets(state, data.facets);
  renderPager(state, data);
}

function badge(system) {
  const cls = String(system || "unknown").toLowerCase().replace(/[^a-z0-9-]/g, "");
  return el("span", { class: `badge ${cls}`, title: "Code system" }, system || "unknown");
}

function highlighted(text, highlights) {
  // Offsets count Unicode code points (as Python does), so walk code points, not UTF-16 units.
  const chars = Array.from(text);
  const frag = document.createDocumentFragment();
  let last = 0;
  for (const [start, end] of highlights || []) {
    if (start < last || end > chars.length) continue;
    frag.append(chars.slice(last, start).join(""));
    frag.append(el("mark", {}, chars.slice(start, end).join("")));
    last = end;
  }
  frag.append(chars.slice(last).join(""));
  return frag;
}

function renderHit(hit, rank) {
  const href = `/code/${encodeURIComponent(hit.code)}`;
  const item = el("li", { class: "hit", "data-code": hit.code },
    el("h3", {},
      el("a", { class: "code", href, "data-nav": "" }, hit.code),
      badge(hit.code_system),
      el("a", { class: "title", href, "data-nav": "" }, hit.title)));
  if (hit.name && hit.name !== hit.title) item.append(el("p", { class: "name" }, hit.name));
  for (const s of hit.snippets || []) {
    item.append(el("p", { class: "snippet" }, el("span", { class: "section" }, `${s.section}:`),
      highlighted(s.text, s.highlights)));
  }
  return item;
}

function facetLink(state, change, label, count, current) {
  const next = Object.assign({}, state, change, { page: 1 });
  return el("li", {}, el("a", { href: searchUrl(next), "data-nav": "", "aria-current": current ? "true" : null },
    el("span", {}, label), el("span", { class: "count" }, count === null ? "" : count.toLocaleString())));
}

function renderFacets(state, facets) {
  const systems = $("facet-systems"), sections = $("facet-sections");
  clear(systems); clear(sections);
  const hasAny = facets && (facets.code_system.length || facets.section.length || state.system || state.section);
  $("facets").hidden = !hasAny;
  $("search-view").classList.toggle("nofacets", !hasAny);
  if (!hasAny) return;
  systems.append(facetLink(state, { system: "" }, "All systems", null, !state.system));
  for (const f of facets.code_system) {
    systems.append(facetLink(state, { system: f.value }, f.label, f.count, state.system === f.value));
  }
  sections.append(facetLink(state, { section: "" }, "Any section", null, !state.section));
  for (const f of facets.section) {
    sections.append(facetLink(state, { section: f.value }, f.label, f.count, state.section === f.value));
  }
}

function renderPager(state, data) {
  const pager = $("pager");
  clear(pager);
  const pages = Math.ceil(data.total / LIMIT);
  if (pages <= 1) return;
  const page = state.page;
  const link = (n, label, rel) => el("a", { href: searchUrl(Object.assign({}, state, { page: n })), "data-nav": "focus-main",
    rel, "aria-current": n === page && !rel ? "page" : null, "aria-label": rel ? null : `Page ${n}` }, label);
  if (page > 1) pager.append(link(page - 1, "\u2190 Previous", "prev"));
  const from = Math.max(1, page - 3), to = Math.min(pages, page + 3);
  if (from > 1) pager.append(link(1, "1"), el("span", { "aria-hidden": "true" }, "\u2026"));
  for (let n = from; n <= to; n++) pager.append(link(n, String(n)));
  if (to < pages) pager.append(el("span", { "aria-hidden": "true" }, "\u2026"));
  if (page < pages && data.hits.length === LIMIT) pager.append(link(page + 1, "Next \u2192", "next"));
}

// -- record view --------------------------------------------------------------------------------

async function showRecord(code) {
  if (searchAbort) searchAbort.abort();
  closeSuggestions();
  $("search-view").hidden = true;
  const view = $("record-view");
  view.hidden = false;
  clear(view);
  status("Loading\u2026");
  const path = encodeURIComponent(code);
  let record, similar;
  try {
    [record, similar] = await Promise.all([getJson(`${API}/codes/${path}`), getJson(`${API}/codes/${path}/similar`)]);
  } catch (err) {
    status(err.message);
    return;
  }
  status("");
  document.title = `${record.code} ${record.title} - procsearch`;
  const back = stateFromUrl().q ? null : sessionStorage.getItem("procsearch-last");
  view.append(el("a", { class: "back", href: back || "/", "data-nav": "" }, "\u2190 Back to search"));
  const header = el("header", {},
    el("p", { class: "meta" }, el("span", { class: "code" }, record.code), " ", badge(record.code_system)),
    el("h1", {}, record.title));
  if (record.name && record.name !== record.title) header.append(el("p", { class: "meta" }, `Name: ${record.name}`));
  if (record.technical_term) header.append(el("p", { class: "meta" }, `Technical term: ${record.technical_term}`));
  view.append(header);
  for (const [label, text] of record.sections || []) {
    const body = el("div", { class: "text" });
    for (const line of String(text).split("\n")) if (line.trim()) body.append(el("p", {}, line));
    view.append(el("section", {}, el("h2", {}, label), body));
  }
  const items = (similar.similar || []).map((s) =>
    el("li", {}, s.indexed ? el("a", { href: `/code/${encodeURIComponent(s.code)}`, "data-nav": "" }, `${s.code} ${s.title}`)
      : `${s.code} ${s.title}`, " ", el("span", { class: "why" }, s.indexed ? `(${s.why})` : `(${s.why}; no page in this index)`)));
  if (items.length) view.append(el("section", { class: "similar" }, el("h2", {}, "Similar codes"), el("ul", {}, ...items)));
  view.setAttribute("tabindex", "-1");
  window.scrollTo(0, 0);
  if (document.activeElement !== box) view.focus({ preventScroll: true });
}

// -- typing: search as you type and suggestions -------------------------------------------------

box.addEventListener("input", () => {
  clearTimeout(searchTimer);
  clearTimeout(suggestTimer);
  const text = box.value;
  searchTimer = setTimeout(() => {
    const url = searchUrl(Object.assign(stateFromUrl(), { q: text.trim(), page: 1 }));
    if (location.pathname !== "/") history.pushState(null, "", url); else history.replaceState(null, "", url);
    remember(url);
    route();
  }, SEARCH_DELAY);
  suggestTimer = setTimeout(() => suggest(text), SUGGEST_DELAY);
});

$("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(searchTimer);
  closeSuggestions();
  const url = searchUrl(Object.assign(stateFromUrl(), { q: box.value.trim(), page: 1 }));
  remember(url);
  go(url, location.pathname === "/" && stateFromUrl().q === box.value.trim());
});

function remember(url) { try { sessionStorage.setItem("procsearch-last", url); } catch (e) { /* private mode */ } }

async function suggest(text) {
  if (suggestAbort) suggestAbort.abort();
  if (text.trim().length < 2) { closeSuggestions(); return; }
  suggestAbort = new AbortController();
  let data;
  try {
    data = await getJson(`${API}/suggest?${new URLSearchParams({ q: text, limit: "8" })}`, suggestAbort.signal);
  } catch (err) {
    return;
  }
  if (box.value !== text) return;
  suggestions = data.completions || [];
  active = -1;
  clear(list);
  suggestions.forEach((c, i) => {
    const item = el("li", { id: `sugg-${i}`, role: "option", "aria-selected": "false" },
      el("span", { class: "kind" }, c.kind), el("span", {}, c.text),
      c.kind === "code" ? el("span", { class: "why" }, c.title) : null);
    item.addEventListener("mousedown", (event) => { event.preventDefault(); choose(i); });
    list.append(item);
  });
  const open = suggestions.length > 0 && document.activeElement === box;
  list.hidden = !open;
  box.setAttribute("aria-expanded", open ? "true" : "false");
  box.removeAttribute("aria-activedescendant");
}

function closeSuggestions() {
  list.hidden = true;
  box.setAttribute("aria-expanded", "false");
  box.removeAttribute("aria-activedescendant");
  active = -1;
}

function highlightOption(i) {
  active = i;
  Array.from(list.children).forEach((li, j) => li.setAttribute("aria-selected", j === i ? "true" : "false"));
  if (i >= 0) box.setAttribute("aria-activedescendant", `sugg-${i}`); else box.removeAttribute("aria-activedescendant");
}

function choose(i) {
  const c = suggestions[i];
  if (!c) return;
  closeSuggestions();
  clearTimeout(searchTimer);
  clearTimeout(suggestTimer);
  if (c.kind === "code") { box.value = c.code; go(`/code/${encodeURIComponent(c.code)}`, false); return; }
  box.value = c.text;
  const url = searchUrl({ q: c.text, system: "", section: "", page: 1 });
  remember(url);
  go(url, false);
}

box.addEventListener("keydown", (event) => {
  const open = !list.hidden && suggestions.length;
  if (event.key === "ArrowDown") {
    if (!open && suggestions.length) { list.hidden = false; box.setAttribute("aria-expanded", "true"); }
    if (suggestions.length) { highlightOption((active + 1) % suggestions.length); event.preventDefault(); }
  } else if (event.key === "ArrowUp" && open) {
    highlightOption(active <= 0 ? suggestions.length - 1 : active - 1);
    event.preventDefault();
  } else if (event.key === "Enter" && open && active >= 0) {
    event.preventDefault();
    choose(active);
  } else if (event.key === "Escape" && open) {
    closeSuggestions();
    event.preventDefault();
  }
});

box.addEventListener("blur", () => setTimeout(closeSuggestions, 100));

document.addEventListener("keydown", (event) => {
  const typing = ["INPUT", "TEXTAREA"].includes(document.activeElement.tagName);
  if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey) {
    event.preventDefault();
    box.focus();
    box.select();
  }
});

route();
