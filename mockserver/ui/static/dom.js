// Building the page with DOM APIs only: every value becomes a text node, never markup.

// Links are built from request numbers and view names only; anything else is refused.
const URL_ATTRIBUTES = new Set(["href", "src", "action", "formaction", "xlink:href"]);
const OWN_LINK = /^#\/[A-Za-z0-9_-]*(\/[0-9]+)?$/;

/** An element: h("td", {className: "mono"}, "text", child, ...). */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (["onclick", "oninput", "onchange", "onsubmit", "onkeydown"].includes(name)) {
      node.addEventListener(name.slice(2), value);
    } else if (name === "text") node.textContent = String(value);
    else if (URL_ATTRIBUTES.has(name.toLowerCase()) || name.toLowerCase().startsWith("on")) {
      // A link is one of this page's own views (#/journal, #/request/12); a handler is a
      // function, added above. Anything else (javascript:, another site) is not set.
      if (URL_ATTRIBUTES.has(name.toLowerCase()) && OWN_LINK.test(String(value))) {
        node.setAttribute(name, String(value));
      }
    } else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

/** Append children: strings and numbers as text, nodes as they are, arrays flattened. */
export function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

/** A table from a header row and rows of cells (strings or nodes). */
export function table(headers, rows, props = {}) {
  return h("table", props,
    h("thead", {}, h("tr", {}, headers.map((name) => h("th", {}, name)))),
    h("tbody", {}, rows));
}

const MAX_NODES = 5000;

/** JSON as a tree of <details>; deep levels start folded; huge values are cut. */
export function jsonTree(value) {
  const budget = { left: MAX_NODES };
  return h("ul", { className: "tree" }, treeItem(null, value, 0, budget));
}

function treeItem(key, value, depth, budget) {
  budget.left -= 1;
  const label = key === null ? [] : [h("span", { className: "key" }, key), ": "];
  if (budget.left < 0) return budget.left === -1 ? h("li", { className: "muted" }, "… (cut)") : null;
  if (value !== null && typeof value === "object") {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
    const opening = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
    const details = h("details", { open: depth < 3 ? "" : null },
      h("summary", {}, label, h("span", { className: "muted" }, opening)),
      h("ul", {}, entries.map(([k, v]) => treeItem(k, v, depth + 1, budget))));
    return h("li", {}, details);
  }
  let cls = "lit";
  let text = String(value);
  if (typeof value === "string") { cls = "str"; text = JSON.stringify(value); }
  else if (typeof value === "number") cls = "num";
  return h("li", {}, label, h("span", { className: cls }, text));
}

/** "2026-01-01T10:00:00.123456+00:00" → "10:00:00.123". */
export function clock(iso) {
  const match = /T(\d\d:\d\d:\d\d)(\.\d{1,3})?/.exec(iso || "");
  return match ? match[1] + (match[2] || "") : String(iso || "");
}

export function statusClass(status) {
  return status ? `s${String(status)[0]}` : "";
}
