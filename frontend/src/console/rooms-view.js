// The list of rooms, most recently active first: unread count, who is there and whether their
// page is visible, and who is typing. Clicking a room opens it.

import { h } from "../dom.js";
import { formatClock, formatFull } from "../time.js";
import { typingText } from "../typing.js";

const STATE_LABELS = { online: "page visible", away: "page hidden", offline: "offline" };

/** One person in a room's summary: a presence dot and the name, with the state spelled out. */
export function personChip(member) {
  return h(
    "span",
    {
      class: `person person--${member.state}`,
      "data-testid": "room-person",
      "data-state": member.state,
      title: `${member.name}: ${STATE_LABELS[member.state]}`,
    },
    h("span", { class: "person__dot", "aria-hidden": "true" }),
    member.name,
    h("span", { class: "visually-hidden" }, ` (${STATE_LABELS[member.state]})`),
  );
}

export class RoomsView {
  /** `onOpen(room)` is called when the facilitator picks a room. */
  constructor(state, { onOpen }) {
    this.state = state;
    this.onOpen = onOpen;
    this.current = null;
    this.list = h("ul", { class: "room-list", "data-testid": "room-list" });
    this.empty = h(
      "p",
      { class: "rooms-empty", "data-testid": "rooms-empty" },
      "No rooms yet. They appear here as soon as a tester joins or writes, e.g. at /r/study-P07?name=P07.",
    );
    this.element = h(
      "nav",
      { class: "rooms-pane", "aria-label": "Rooms" },
      h("h2", { class: "pane-title" }, "Rooms"),
      this.empty,
      this.list,
    );
    state.subscribe((room, what) => {
      if (room === null && what === "rooms") this.render();
    });
  }

  select(room) {
    this.current = room;
    this.render();
  }

  render() {
    const rooms = this.state.ordered();
    this.empty.hidden = rooms.length > 0;
    this.list.replaceChildren(...rooms.map((record) => this.item(record)));
  }

  item(record) {
    const unread = record.unread;
    const present = record.members.filter((m) => m.state !== "offline");
    const shown = present.length > 0 ? present : record.members.slice(0, 3);
    const typing = typingText([...record.typing.values()]);
    const button = h(
      "button",
      {
        type: "button",
        class: "room-item",
        "data-testid": "console-room",
        "data-room": record.room,
        "data-unread": String(unread),
        "aria-current": record.room === this.current ? "true" : null,
        onclick: () => this.onOpen(record.room),
      },
      h(
        "span",
        { class: "room-item__top" },
        h("span", { class: "room-item__name" }, record.room),
        record.ts
          ? h("time", { class: "room-item__time", title: formatFull(record.ts) }, formatClock(record.ts))
          : null,
        unread > 0
          ? h("span", { class: "badge", "data-testid": "unread", "aria-label": `${unread} unread` }, String(unread))
          : null,
      ),
      typing
        ? h("span", { class: "room-item__typing" }, typing)
        : h(
            "span",
            { class: "room-item__people" },
            shown.length ? shown.map(personChip) : h("span", { class: "muted" }, "nobody here"),
          ),
    );
    return h("li", {}, button);
  }
}
