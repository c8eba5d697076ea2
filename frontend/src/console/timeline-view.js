// One room's timeline: messages as speech bubbles, and between them what happened — joins,
// leaves, reconnects, page visibility, prototype steps — each with its time. Facilitators'
// notes stand out as cards; testers never see them.

import { h } from "../dom.js";
import { linkify } from "../linkify.js";
import { renderMessage } from "../messages.js";
import { formatClock, formatFull, formatIso } from "../time.js";

const NEAR_BOTTOM_PX = 80;

function time(ts) {
  return h(
    "time",
    { class: "event__time", datetime: formatIso(ts) || null, title: formatFull(ts) || null },
    formatClock(ts),
  );
}

function compact(data) {
  try {
    return JSON.stringify(data);
  } catch {
    return String(data);
  }
}

/** What an event says, in words; `who` is the actor's name. */
export function describeEvent(entry) {
  const who = entry.actor?.name ? String(entry.actor.name) : "Someone";
  const data = entry.data && typeof entry.data === "object" ? entry.data : {};
  switch (entry.kind) {
    case "join":
      return `${who} joined`;
    case "leave":
      return `${who} left`;
    case "reconnect":
      return `${who} reconnected`;
    case "visibility":
      return data.state === "hidden" || data.state === "away"
        ? `${who} left the page (hidden)`
        : `${who} is back on the page`;
    case "step": {
      const extra = data.data === undefined || data.data === null ? "" : ` ${compact(data.data)}`;
      return `${who} reached step “${String(data.step ?? "?")}”${extra}`;
    }
    default:
      return `${who}: ${String(entry.kind ?? "event")}`;
  }
}

function renderNote(entry) {
  const author = entry.actor?.name ? String(entry.actor.name) : "Facilitator";
  return h(
    "li",
    { class: "note", "data-testid": "timeline-note", "data-seq": entry.seq },
    h(
      "div",
      { class: "note__head" },
      h("span", { class: "note__label" }, "Note"),
      h("span", { class: "note__author" }, author),
      h("span", { class: "note__private" }, "only facilitators see this"),
      time(entry.ts),
    ),
    h("p", { class: "note__text", "data-testid": "note-text" }, linkify(String(entry.data?.text ?? ""))),
  );
}

function renderEvent(entry) {
  if (entry.kind === "note") return renderNote(entry);
  return h(
    "li",
    { class: `event event--${String(entry.kind)}`, "data-testid": "timeline-event", "data-kind": entry.kind },
    h("span", { class: "event__text" }, describeEvent(entry)),
    " ",
    time(entry.ts),
  );
}

export class TimelineView {
  /** `isOwn(message)` says whether the console sent it (shown on the right). */
  constructor({ isOwn }) {
    this.isOwn = isOwn;
    this.list = h("ol", { class: "messages timeline", "data-testid": "timeline" });
    this.start = h("p", { class: "messages__start" }, "");
    this.element = h("div", { class: "messages-scroll" }, this.start, this.list);
  }

  render(entry) {
    if (entry.type === "message") return renderMessage(entry, this.isOwn(entry));
    return renderEvent(entry);
  }

  /** Show `entries` (null while loading) of `room`; `more` when older ones were left out. */
  show(room, entries, more = false) {
    this.start.textContent =
      entries === null
        ? `Loading ${room}…`
        : more
          ? "Older messages and events are not shown here; the exports have them all."
          : entries.length === 0
            ? "Nothing has happened in this room yet."
            : "";
    this.list.replaceChildren(...(entries ?? []).map((entry) => this.render(entry)));
    this.scrollToEnd();
  }

  append(entry) {
    const stick = this.nearBottom();
    if (this.list.children.length === 0) this.start.textContent = ""; // "nothing yet" is over
    this.list.append(this.render(entry));
    if (stick) this.scrollToEnd();
  }

  nearBottom() {
    const el = this.element;
    return el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToEnd() {
    this.element.scrollTop = this.element.scrollHeight;
  }
}
