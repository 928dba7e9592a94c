// The live feed: server-sent events read through fetch (so the admin token can travel
// in a header, which EventSource cannot send), reconnecting after a second when cut.

import { eventsUrl, headers } from "./api.js";

export class Feed {
  constructor(onEvent, onState) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.controller = null;
    this.query = "";
    this.generation = 0;
  }

  /** (Re)open the feed for the journal filter in `query`. */
  open(query) {
    this.query = query;
    this.generation += 1;
    if (this.controller) this.controller.abort();
    this.run(this.generation);
  }

  async run(generation) {
    while (generation === this.generation) {
      const controller = new AbortController();
      this.controller = controller;
      try {
        const response = await fetch(eventsUrl(this.query), {
          headers: headers({ Accept: "text/event-stream" }),
          signal: controller.signal,
          cache: "no-store",
        });
        if (response.status === 401) {
          // No (right) admin token: wait until the page is given one and opens the feed again.
          this.onState("locked");
          return;
        }
        if (!response.ok || !response.body) throw new Error(String(response.status));
        await this.read(response.body.getReader(), generation);
      } catch (_) {
        if (generation !== this.generation) return;
      }
      this.onState("down");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  async read(reader, generation) {
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done || generation !== this.generation) return;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        this.dispatch(block);
      }
    }
  }

  dispatch(block) {
    let name = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) name = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
    }
    if (!data.length) return;
    if (name === "hello") { this.onState("live"); return; }
    try {
      this.onEvent(name, JSON.parse(data.join("\n")));
    } catch (_) { /* a malformed message: skip it */ }
  }
}
