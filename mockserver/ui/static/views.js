// Stubs, scenario states and the fake CRMs.

import { get, remove } from "./api.js";
import { h, table } from "./dom.js";

export async function renderStubs(app, root) {
  const { stubs } = await get("stubs");
  root.append(h("h2", {}, `Stubs (${stubs.length}), in the order they are tried`));
  if (!stubs.length) { root.append(h("p", { className: "muted" }, "No stub is registered.")); return; }
  root.append(table(["id", "name", "request", "calls", "source", ""], stubs.map((stub) =>
    h("tr", { dataset: { id: stub.id } },
      h("td", { className: "mono" }, stub.id),
      h("td", {}, stub.name || ""),
      h("td", { className: "mono url" }, stub.request),
      h("td", { className: "mono calls" }, stub.calls),
      h("td", { className: "mono" }, stub.source || "API / Python"),
      h("td", {}, h("button", { type: "button", className: "danger remove",
        // In the query: a browser resolves a path segment "." or ".." (and "%2E") away.
        onclick: () => app.act(() => remove(`stubs?id=${encodeURIComponent(stub.id)}`)) }, "Remove")))),
  { id: "stubs" }));
}

export async function renderStates(app, root) {
  const { states } = await get("states");
  root.append(h("h2", {}, "Scenario states"));
  if (!states.length) {
    root.append(h("p", { className: "muted" }, "Every scenario is in its first state (Started)."));
    return;
  }
  root.append(table(["scenario", "key", "state"], states.map((s) =>
    h("tr", {}, h("td", { className: "mono" }, s.scenario), h("td", { className: "mono" }, s.key),
      h("td", { className: "mono" }, s.state))), { id: "states" }));
}

const cut = (text, limit = 120) => (text.length > limit ? text.slice(0, limit - 1) + "…" : text);
const shown = (value) => (typeof value === "string" ? value : JSON.stringify(value) ?? "");

function records(entity) {
  const columns = [];
  for (const key of ["ID", "id", "TITLE", "NAME", "name"]) {
    if (entity.records.some((record) => key in record)) columns.push(key);
  }
  for (const record of entity.records.slice(0, 50)) {
    for (const key of Object.keys(record)) if (!columns.includes(key) && columns.length < 12) columns.push(key);
  }
  const more = entity.count > entity.records.length ? ` (the newest ${entity.records.length} shown)` : "";
  return h("div", { className: "entity", dataset: { entity: entity.entity } },
    h("h3", {}, `${entity.entity}: ${entity.count} record(s)${more}`),
    h("div", { className: "scroll" }, table(columns, entity.records.map((record) =>
      h("tr", {}, columns.map((key) => h("td", { className: "mono", title: cut(shown(record[key]), 2000) },
        key in record ? cut(shown(record[key])) : "")))))));
}

export async function renderCrm(app, root) {
  const { profiles } = await get("crm");
  root.append(h("h2", {}, "Fake CRMs"));
  if (!profiles.length) {
    root.append(h("p", { className: "muted" }, "No fake CRM is mounted (mockserver --crm bitrix24 / --crm amocrm)."));
    return;
  }
  for (const profile of profiles) {
    const card = h("section", { className: "card crm", dataset: { profile: profile.name } },
      h("h2", {}, profile.name, profile.blocked ? h("span", { className: "badge" }, " blocked") : null));
    if (profile.tokens) {
      card.append(h("h3", {}, "Tokens"), table(["token", "integration"], profile.tokens.map((t) =>
        h("tr", {}, h("td", { className: "mono" }, t.token), h("td", {}, t.integration)))));
    }
    if (profile.webhooks) {
      card.append(h("h3", {}, "Inbound webhooks"), table(["path", "user", "scope"], profile.webhooks.map((w) =>
        h("tr", {}, h("td", { className: "mono" }, w.path), h("td", {}, w.user_id), h("td", {}, w.scope.join(", "))))));
    }
    card.append(h("h3", {}, `Faults (${profile.faults.length})`));
    if (profile.faults.length) {
      card.append(table(["method", "kind", "on call", "status", "code", "seen"], profile.faults.map((f) =>
        h("tr", {}, [f.method, f.kind, f.call === null ? "every" : f.call, f.status, f.code, f.seen].map((v) => h("td", { className: "mono" }, v))))));
    }
    card.append(h("h3", {}, "Records"));
    if (!profile.entities.length) card.append(h("p", { className: "muted" }, "(none)"));
    for (const entity of profile.entities) card.append(records(entity));
    card.append(h("h3", {}, `Call log (${profile.call_count} call(s); the newest last)`),
      table(["method", "at", "status"], profile.calls.map((c) =>
        h("tr", {}, h("td", { className: "mono" }, c.method), h("td", { className: "mono" }, c.at), h("td", { className: "mono" }, c.status ?? ""))),
      { className: "calls" }));
    root.append(card);
  }
}
