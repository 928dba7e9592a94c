// One request: its line, headers, query and body decoded, and who answered or came closest.

import { get } from "./api.js";
import { append, clock, h, jsonTree, statusClass, table } from "./dom.js";

export async function renderDetail(app, root, seq) {
  let detail;
  try {
    detail = await get(`requests/${encodeURIComponent(seq)}`);
  } catch (error) {
    root.append(h("p", { className: "muted" }, error.message), h("a", { href: "#/journal" }, "← journal"));
    return;
  }
  const status = detail.status !== null ? detail.status
    : detail.answering ? "in progress" : (detail.fault || "no answer");
  append(root, [
    h("p", {}, h("a", { href: "#/journal" }, "← journal")),
    h("h2", { id: "request-line" },
      `#${detail.seq} `, h("span", { className: "mono" }, `${detail.method} ${detail.url}`), " → ",
      h("span", { className: statusClass(detail.status) }, status)),
    h("p", { className: "muted" }, `received ${clock(detail.received_at)} UTC · ${detail.size} byte(s) of body`,
      detail.fault ? ` · fault ${detail.fault}` : "", detail.note ? ` · note: ${detail.note}` : ""),
    answeredBy(detail),
    h("h3", {}, "Headers"),
    table(["name", "value"], detail.headers.map(([name, value]) =>
      h("tr", {}, h("td", { className: "mono" }, name), h("td", { className: "mono url" }, value))), { id: "headers" }),
    detail.query ? [h("h3", {}, "Query (as PHP's $_GET)"), h("div", { id: "query" }, jsonTree(detail.query))] : null,
    body(detail.body)]);
}

function answeredBy(detail) {
  const section = h("section", { id: "answer" });
  const by = detail.answered_by;
  if (by && by.crm) {
    section.append(h("h3", {}, "Answered by"), h("p", {}, `the fake CRM ${by.crm} (see Fake CRMs)`));
  } else if (by) {
    section.append(h("h3", {}, "Answered by"),
      h("p", {}, h("span", { className: "mono" }, by.label),
        by.source ? [" from ", h("span", { className: "mono", id: "stub-source" }, by.source)] : " (added through the API or Python)",
        by.calls !== null ? ` · ${by.calls} call(s) so far` : ""));
  } else if (detail.near_misses) {
    section.append(h("h3", {}, "Not matched: the closest stubs"),
      h("p", { className: "muted" }, `compared with the ${detail.stub_count} stub(s) registered now`));
    if (!detail.near_misses.length) {
      section.append(h("p", { id: "no-near-miss" }, detail.stub_count ? "No stub came close." : "No stub is registered."));
    }
    detail.near_misses.forEach((miss, index) => {
      const differing = new Set(miss.mismatches.map((m) => m.field)).size;
      section.append(h("div", { className: "miss near-miss" },
        h("strong", {}, `${index + 1}. ${miss.label}`),
        h("span", { className: "muted" }, `: ${differing} of ${miss.checked} field(s) differ`),
        table(["field", "expected", "actual"], miss.mismatches.map((m) =>
          h("tr", {}, h("td", { className: "mono" }, m.field), h("td", { className: "mono" }, m.expected),
            h("td", { className: "mono actual" }, m.actual))))));
    });
  }
  return section;
}

function body(view) {
  const out = [h("h3", {}, "Body")];
  if (view.kind === "empty") return out.concat(h("p", { className: "muted" }, "(no body)"));
  if (view.kind === "form") out.push(h("p", { className: "muted" }, "form, decoded as PHP's $_POST:"), h("div", { id: "body-tree" }, jsonTree(view.value)));
  if (view.kind === "json") out.push(h("p", { className: "muted" }, "JSON:"), h("div", { id: "body-tree" }, jsonTree(view.value)));
  out.push(h("p", { className: "muted" }, view.kind === "text" ? "as sent:" : "raw:"), h("pre", { id: "body-raw" }, view.text));
  if (view.cut) out.push(h("p", { className: "muted" }, "(cut: the body is longer)"));
  return out;
}
