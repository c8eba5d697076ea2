// The facilitator console: watch every room, answer any of them, keep notes, make links.
//
// One Socket.IO connection with a console ticket (see ticket.js) receives the events of every
// room without joining any, so watching never shows the facilitator in a room. On every
// (re)connect the room list, canned replies and the open room's timeline are fetched again.

import { Connection } from "../connection.js";
import { h } from "../dom.js";
import { newCid } from "../ids.js";
import { typingText } from "../typing.js";
import { CannedReplies } from "./canned.js";
import { Exports } from "./exports.js";
import { ConsoleLayout } from "./layout.js";
import { LinkMaker } from "./link-maker.js";
import { loadPref, savePref } from "./prefs.js";
import { ReplyBox } from "./reply.js";
import { personChip, RoomsView } from "./rooms-view.js";
import { ConsoleState } from "./state.js";
import { consoleAuth } from "./ticket.js";
import { TimelineView } from "./timeline-view.js";

const READ_DELAY_MS = 200;

class ConsolePage {
  constructor(root) {
    this.state = new ConsoleState();
    this.open = null; // the room being watched
    this.readTimer = null;

    this.rooms = new RoomsView(this.state, { onOpen: (room) => this.openRoom(room) });
    // Every facilitator's messages sit on the right: their sender ids start with "console:".
    this.timeline = new TimelineView({ isOwn: (m) => String(m.sender?.id ?? "").startsWith("console:") });
    this.reply = new ReplyBox({
      send: (text, { system }) => this.send(text, system),
      note: (text) => this.ask("note", { room: this.open, text }),
      typing: (typing, name) => this.connection.notify("typing", { room: this.open, typing, ...(name ? { name } : {}) }),
      typingName: loadPref("typingAs"),
      onTypingName: (name) => savePref("typingAs", name),
    });
    this.canned = new CannedReplies({
      save: async (replies) => (await this.ask("canned", { replies })).replies,
      use: (text) => this.reply.insert(text),
      send: (text) => this.open && this.reply.sendNow(text),
    });
    this.links = new LinkMaker({ create: (request) => this.ask("link", request) });
    this.exports = new Exports();
    this.peopleList = h("ul", { class: "people", "data-testid": "people" });
    this.nameInput = h("input", {
      class: "field__input",
      value: loadPref("name"),
      maxlength: 64,
      "data-testid": "console-name",
      onchange: () => this.rename(),
    });

    this.layout = new ConsoleLayout(root, {
      rooms: this.rooms.element,
      timeline: this.timeline.element,
      reply: this.reply.element,
      onBack: () => this.layout.setView("rooms"),
      tools: [
        h("section", { class: "tool" }, h("h3", { class: "tool__title" }, "People in this room"), this.peopleList),
        this.canned.element,
        this.links.element,
        this.exports.element,
        h(
          "section",
          { class: "tool" },
          h("label", { class: "field" }, h("span", { class: "field__label" }, "Your name in rooms"), this.nameInput),
        ),
      ],
    });
    this.layout.showRoom(null);
    this.rooms.render();

    this.state.subscribe((room, what, detail) => this.changed(room, what, detail));
    document.addEventListener("visibilitychange", () => this.scheduleRead());
    this.connect();
  }

  connect() {
    this.connection = new Connection(consoleAuth(() => loadPref("name")));
    this.connection.subscribe((status, error) => this.layout.setStatus(status, error));
    const socket = this.connection.socket;
    socket.on("connect", () => this.refresh());
    socket.on("message", (message) => this.state.message(message));
    socket.on("timeline", (event) => this.state.event(event));
    socket.on("presence", (update) => this.state.presence(update));
    socket.on("typing", (update) => this.state.typing(update));
  }

  /** A request whose error answer becomes an Error with the server's message. */
  async ask(event, payload) {
    const ack = await this.connection.request(event, payload);
    if (ack.ok !== true) throw new Error(ack.error?.message ?? `${event} failed`);
    return ack;
  }

  async refresh() {
    try {
      this.state.setRooms((await this.ask("rooms", {})).rooms);
      this.canned.set((await this.ask("canned", {})).replies);
      if (this.open) await this.loadTimeline(this.open);
    } catch {
      // Cut off again mid-way: the next connect refreshes.
    }
  }

  async loadTimeline(room) {
    const answer = await this.ask("timeline", { room });
    if (room === this.open) this.state.setTimeline(room, answer.entries, answer.more);
  }

  openRoom(room) {
    if (room !== this.open) {
      this.reply.setRoom(room);
      this.open = room;
      this.layout.showRoom(room);
      this.rooms.select(room);
      this.links.setRoom(room);
      this.exports.setRoom(room);
      const record = this.state.get(room);
      this.timeline.show(room, record.entries, record.more);
      this.renderPeople();
      this.renderTyping();
      if (this.connection.connected) this.loadTimeline(room).catch(() => {});
    }
    this.layout.setView("room");
    this.scheduleRead();
  }

  async send(text, system) {
    const cid = newCid();
    const ack = await this.ask("send", { room: this.open, text, cid, ...(system ? { as: "system" } : {}) });
    this.state.message({ ...ack.message, room: ack.message.room ?? this.open });
  }

  rename() {
    const name = this.nameInput.value.trim();
    if (!name) return;
    savePref("name", name);
    // The name goes with the connection's auth: reconnect to take it.
    this.connection.socket.disconnect().connect();
  }

  changed(room, what, detail) {
    if (room !== this.open || room === null) return;
    if (what === "room") {
      const record = this.state.get(room);
      this.timeline.show(room, record.entries, record.more);
    }
    else if (what === "entry") this.timeline.append(detail);
    else if (what === "members") this.renderPeople();
    if (what === "members" || what === "typing" || what === "entry") this.renderTyping();
    if (what === "entry" || what === "room") this.scheduleRead();
  }

  renderPeople() {
    const members = this.state.get(this.open).members;
    const chips = members.map((m) => h("li", {}, personChip(m)));
    this.peopleList.replaceChildren(...(chips.length ? chips : [h("li", { class: "muted" }, "Nobody has joined.")]));
    this.layout.people.replaceChildren(...members.filter((m) => m.state !== "offline").map(personChip));
  }

  renderTyping() {
    this.layout.typingLine.textContent = typingText([...this.state.get(this.open).typing.values()]);
  }

  /**
   * Mark the open room read once the facilitator can actually see it. One pending check at a
   * time, never pushed back: a busy room must not keep postponing its read position.
   */
  scheduleRead() {
    if (this.readTimer !== null) return;
    this.readTimer = setTimeout(() => {
      this.readTimer = null;
      const room = this.open;
      const visible = document.visibilityState === "visible" && (this.layout.view === "room" || window.innerWidth >= 760);
      if (!room || !visible || !this.connection.connected) return;
      if (this.state.markRead(room)) {
        this.connection.notify("read", { room, offset: this.state.get(room).readOffset });
      }
    }, READ_DELAY_MS);
  }
}

new ConsolePage(document.getElementById("console"));
