// The journal: a filtered page of requests, newest first, paged on the server, live.

import { get } from "./api.js";
import { clear, clock, h, statusClass } from "./dom.js";

const METHODS = ["", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

export class JournalView {
  constructor(app) {
    this.app = app;
    this.filter = { method: "", path: "", status: "", matched: "", q: "" };
    this.cursors = [];      // the `before` of each page we came through (newest page: none)
    this.before = null;
    this.limit = 100;
    this.rows = [];
    this.more = false;
    this.total = 0;
    this.timer = null;
    this.body = null;
    this.info = null;
  }

  /** The filter as a query string (also the live feed's). */
  query() {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(this.filter)) if (value) params.set(name, value);
    return params.toString();
  }

  render(root) {
    const field = (name, placeholder, size) => h("input", {
      name, placeholder, size, value: this.filter[name], "aria-label": placeholder,
      oninput: (event) => this.change(name, event.target.value),
    });
    const select = (name, options, label) => {
      const node = h("select", { name, "aria-label": label,
        onchange: (event) => this.change(name, event.target.value) },
        options.map(([value, text]) => h("option", { value }, text)));
      node.value = this.filter[name];
      return node;
    };
    this.body = h("tbody", { id: "journal-body" });
    this.info = h("span", { id: "journal-info", className: "muted" });
    this.pager = h("div", { className: "pager" },
      h("button", { type: "button", id: "newer", onclick: () => this.newer() }, "← Newer"),
      h("button", { type: "button", id: "older", onclick: () => this.older() }, "Older →"),
      this.info);
    root.append(
      h("div", { className: "filters", id: "filters" },
        select("method", METHODS.map((m) => [m, m || "any method"]), "method"),
        field("path", "path contains", 18),
        field("status", "status (404, 4xx, none)", 12),
        select("matched", [["", "matched or not"], ["matched", "matched"], ["unmatched", "unmatched"]], "matched"),
        field("q", "text in URL, headers, body", 24)),
      h("table", { id: "journal" },
        h("thead", {}, h("tr", {}, ["#", "time (UTC)", "method", "URL", "status", "answered by"].map((t) => h("th", {}, t)))),
        this.body),
      this.pager);
    this.load();
  }

  change(name, value) {
    this.filter[name] = value;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.before = null;
      this.cursors = [];
      this.app.feed.open(this.query());
      this.load();
    }, 200);
  }

  async load() {
    const params = new URLSearchParams(this.query());
    if (this.before) params.set("before", String(this.before));
    params.set("limit", String(this.limit));
    try {
      const page = await get(`requests?${params}`);
      this.rows = page.rows;
      this.more = page.more;
      this.total = page.total;
      this.app.hideError();
      this.draw();
    } catch (error) {
      this.app.showError(error.message);
    }
  }

  newer() {
    if (!this.cursors.length) return;
    this.before = this.cursors.pop();
    this.load();
  }

  older() {
    if (!this.more || !this.rows.length) return;
    this.cursors.push(this.before);
    this.before = this.rows[this.rows.length - 1].seq;
    this.load();
  }

  /** New requests from the live feed: shown at once on the newest page. */
  live(name, data) {
    this.total = data.total;
    if (name === "reset") { this.before = null; this.cursors = []; this.load(); return; }
    if (name === "answered") { this.answered(data.rows); return; }
    // On an older page the rows stay put; the count tells that more came.
    if (name !== "rows" || this.before !== null || !data.rows.length) { this.drawInfo(); return; }
    const known = new Set(this.rows.map((row) => row.seq));
    const fresh = data.rows.filter((row) => !known.has(row.seq));
    // More came than the message carries: the rows it carries are the newest, and the
    // gap below them is not shown, so the page holds just those (older ones follow).
    this.rows = data.skipped ? fresh : fresh.concat(this.rows);
    if (data.skipped || this.rows.length > this.limit) this.more = true;
    if (this.rows.length > this.limit) this.rows.length = this.limit;
    // A few new rows flash once; a flood is drawn plainly (an animation per row would
    // keep the browser repainting all the time).
    const flash = !data.skipped && fresh.length <= 10;
    this.draw(new Set(flash ? fresh.map((row) => row.seq) : []));
  }

  /** Rows whose request a fake CRM was working on, now answered: each takes the place
   * of the row shown for it, on whichever page (a row not shown is left out). */
  answered(rows) {
    const now = new Map(rows.map((row) => [row.seq, row]));
    let changed = false;
    this.rows = this.rows.map((row) => {
      const done = now.get(row.seq);
      if (!done || !row.answering) return row;
      changed = true;
      return done;
    });
    if (changed) this.draw();
    else this.drawInfo();
  }

  draw(fresh = new Set()) {
    if (!this.body) return;
    clear(this.body);
    for (const row of this.rows) this.body.appendChild(this.rowNode(row, fresh.has(row.seq)));
    if (!this.rows.length) {
      this.body.appendChild(h("tr", {}, h("td", { colspan: 6, className: "muted" },
        this.query() ? "No request passes this filter." : "No request yet: send one to this server.")));
    }
    this.drawInfo();
    // For bench/bench_dashboard.py: when the table first showed rows, after navigation.
    if (this.rows.length && !performance.getEntriesByName("journal-drawn").length) {
      performance.mark("journal-drawn");
    }
  }

  drawInfo() {
    if (!this.info) return;
    const page = this.cursors.length + 1;
    this.info.textContent = `page ${page}: ${this.rows.length} shown${this.more ? ", older ones follow" : ""}` +
      ` · ${this.total} in the journal`;
    this.pager.querySelector("#newer").disabled = !this.cursors.length;
    this.pager.querySelector("#older").disabled = !this.more;
  }

  rowNode(row, fresh) {
    const answered = row.refused ? "refused by the HTTP parser"
      : row.stub_name ? `${row.stub_name} (${row.stub_id})`
      : row.stub_id ? row.stub_id : "no stub matched";
    const status = row.status !== null ? row.status
      : row.answering ? "in progress" : (row.fault || "no answer");
    const classes = ["row", row.stub_id ? "matched" : "unmatched", fresh ? "fresh" : ""].join(" ");
    const open = () => { location.hash = `#/request/${Number(row.seq)}`; };
    return h("tr", { className: classes, dataset: { seq: row.seq }, tabindex: 0, onclick: open,
      onkeydown: (event) => { if (event.key === "Enter") open(); } },
      h("td", { className: "mono" }, row.seq),
      h("td", { className: "mono" }, clock(row.received_at)),
      h("td", { className: "mono" }, row.method),
      h("td", { className: "mono url" }, row.url),
      h("td", { className: `mono status ${statusClass(row.status)}` }, status),
      h("td", { className: "mono" }, answered));
  }
}
