// The dashboard: a view per hash route (#/journal, #/request/12, #/stubs, #/states, #/crm).

import { get, post, setToken, token, whenUnauthorized } from "./api.js";
import { renderDetail } from "./detail.js";
import { clear } from "./dom.js";
import { Feed } from "./feed.js";
import { JournalView } from "./journal.js";
import { renderCrm, renderStates, renderStubs } from "./views.js";

class App {
  constructor() {
    this.root = document.getElementById("view");
    this.error = document.getElementById("error");
    this.liveBadge = document.getElementById("live");
    this.summary = document.getElementById("summary");
    this.journal = new JournalView(this);
    this.view = "";
    this.refreshTimer = null;
    this.feed = new Feed((name, data) => this.onFeed(name, data), (state) => this.setLive(state));
  }

  start() {
    whenUnauthorized(() => this.askToken());
    const form = document.getElementById("token-form");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      setToken(document.getElementById("token-input").value);
      form.hidden = true;
      this.feed.open(this.journal.query());
      this.route();
    });
    document.getElementById("clear-journal").addEventListener("click", () => this.act(() => post("clear-journal")));
    const reset = document.getElementById("reset");
    reset.addEventListener("click", () => {
      if (!reset.classList.contains("armed")) {
        reset.classList.add("armed");
        reset.textContent = "Click again: forget stubs, requests, states, CRMs";
        setTimeout(() => { reset.classList.remove("armed"); reset.textContent = "Reset…"; }, 4000);
        return;
      }
      reset.classList.remove("armed");
      reset.textContent = "Reset…";
      this.act(() => post("reset"));
    });
    window.addEventListener("hashchange", () => this.route());
    this.feed.open(this.journal.query());
    this.route();
  }

  askToken() {
    document.getElementById("token-form").hidden = false;
    this.showError(token() ? "The admin token was refused." : "This server needs its admin token.");
  }

  setLive(state) {
    // Back after a cut (the server drops a page that fell too far behind, or it
    // restarted): what came in between was never sent, so the count and the newest
    // journal page are read anew.
    if (state === "live" && this.liveBadge.dataset.state === "down") {
      get("overview").then((o) => this.drawSummary({ total: o.requests, dropped: o.dropped }), () => {});
      if (this.view === "journal" && this.journal.before === null) this.journal.load();
    }
    this.liveBadge.dataset.state = state;
    const words = { live: "● live", down: "reconnecting", locked: "needs the admin token" };
    this.liveBadge.textContent = words[state] || state;
  }

  showError(text) { this.error.textContent = text; this.error.hidden = false; }
  hideError() { this.error.hidden = true; }

  async act(action) {
    try {
      await action();
      this.hideError();
    } catch (error) {
      this.showError(error.message);
    }
    this.route();
  }

  onFeed(name, data) {
    this.drawSummary(data);
    if (this.view === "journal") this.journal.live(name, data);
    else if (this.view !== "request") {
      // Stub call counts, states and CRM records move with the traffic: redraw, at most once a second.
      if (this.refreshTimer === null) {
        this.refreshTimer = setTimeout(() => { this.refreshTimer = null; this.route(); }, 1000);
      }
    }
  }

  drawSummary(data) {
    const dropped = data.dropped ? ` (${data.dropped} dropped by the cap)` : "";
    this.summary.textContent = `${data.total} request(s) journaled${dropped}`;
  }

  async route() {
    const hash = location.hash || "#/journal";
    const [, view = "journal", arg = ""] = hash.split("/");
    this.view = view;
    for (const link of document.querySelectorAll("#tabs a")) {
      link.classList.toggle("active", link.dataset.view === view);
    }
    this.generation = (this.generation || 0) + 1;
    const mine = this.generation;
    const root = document.createElement("div");
    // The summary line comes on its own; the view does not wait for it.
    get("overview").then((o) => this.drawSummary({ total: o.requests, dropped: o.dropped }), () => {});
    try {
      if (view === "request") await renderDetail(this, root, arg);
      else if (view === "stubs") await renderStubs(this, root);
      else if (view === "states") await renderStates(this, root);
      else if (view === "crm") await renderCrm(this, root);
      else this.journal.render(root);
    } catch (error) {
      this.showError(error.message);
    }
    if (mine !== this.generation) return;  // another route began meanwhile: it draws
    clear(this.root).appendChild(root);
    this.root.dataset.view = view;
  }
}

new App().start();
