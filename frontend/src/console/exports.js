// Transcript downloads of one room: plain links to /console/export/<room>, which the session
// cookie (path /console) authorises. Two CSV flavours: "," for most tools, ";" for
// spreadsheets in locales whose decimal separator is a comma.

import { h } from "../dom.js";

const FORMATS = [
  ["CSV (,)", { format: "csv", delimiter: "," }, "csv-comma"],
  ["CSV (;)", { format: "csv", delimiter: ";" }, "csv-semicolon"],
  ["JSON", { format: "json" }, "json"],
  ["Markdown", { format: "md" }, "md"],
];

export function exportHref(room, params) {
  return `/console/export/${encodeURIComponent(room)}?${new URLSearchParams(params)}`;
}

export class Exports {
  constructor() {
    this.links = h("div", { class: "exports" });
    this.element = h(
      "section",
      { class: "tool", "aria-labelledby": "export-title" },
      h("h3", { class: "tool__title", id: "export-title" }, "Export transcript"),
      this.links,
    );
    this.setRoom(null);
  }

  setRoom(room) {
    if (room === null) {
      this.links.replaceChildren(h("p", { class: "muted" }, "Open a room to export its transcript."));
      return;
    }
    this.links.replaceChildren(
      ...FORMATS.map(([label, params, id]) =>
        h("a", { class: "button", href: exportHref(room, params), download: "", "data-testid": `export-${id}` }, label),
      ),
    );
  }
}
