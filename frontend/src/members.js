// Who is in the room: the presence list (replaced whole on every `presence` event), typing
// flags from `typing` events, and its rendering as a list of names with state dots.

import { h } from "./dom.js";

const STATES = ["online", "away", "offline"];
const STATE_LABELS = { online: "Online", away: "Away", offline: "Offline" };
const TYPING_EXPIRES_MS = 8000; // in case a "typing: false" is lost

export class Members {
  /** isMe(id) marks our own entry; onChange() runs after every change. */
  constructor({ isMe, onChange }) {
    this.isMe = isMe;
    this.onChange = onChange;
    this.members = new Map(); // id -> {id, name, state, typing}
    this.expiry = new Map(); // id -> timer
    this.list = h("ul", { class: "members", "data-testid": "members", "aria-label": "Members" });
  }

  /** The full list from a `presence` event or a join answer. */
  replace(members) {
    this.members = new Map();
    for (const member of Array.isArray(members) ? members : []) {
      if (!member || member.id === undefined) continue;
      this.members.set(member.id, {
        id: member.id,
        name: String(member.name ?? ""),
        state: STATES.includes(member.state) ? member.state : "online",
        typing: member.typing === true,
      });
    }
    this.changed();
  }

  /** A `typing` event. */
  setTyping(member, typing) {
    if (!member || member.id === undefined) return;
    let entry = this.members.get(member.id);
    if (!entry) {
      if (!typing) return;
      entry = { id: member.id, name: String(member.name ?? ""), state: "online", typing: false };
      this.members.set(member.id, entry);
    }
    entry.typing = typing === true;
    clearTimeout(this.expiry.get(member.id));
    if (entry.typing) {
      this.expiry.set(
        member.id,
        setTimeout(() => this.setTyping(member, false), TYPING_EXPIRES_MS),
      );
    }
    this.changed();
  }

  /** Names of the others who are typing now. */
  typingNames() {
    return [...this.members.values()].filter((m) => m.typing && !this.isMe(m.id)).map((m) => m.name);
  }

  get onlineCount() {
    return [...this.members.values()].filter((m) => m.state !== "offline").length;
  }

  changed() {
    this.render();
    this.onChange();
  }

  render() {
    const sorted = [...this.members.values()].sort(
      (a, b) =>
        STATES.indexOf(a.state) - STATES.indexOf(b.state) ||
        Number(this.isMe(b.id)) - Number(this.isMe(a.id)) ||
        a.name.localeCompare(b.name),
    );
    this.list.replaceChildren(...sorted.map((member) => this.renderMember(member)));
  }

  renderMember(member) {
    const me = this.isMe(member.id);
    return h(
      "li",
      {
        class: `member member--${member.state}`,
        "data-testid": "member",
        "data-state": member.state,
        "data-typing": String(member.typing),
        "data-me": me ? "true" : null,
      },
      h("span", { class: "member__dot", role: "img", "aria-label": STATE_LABELS[member.state], title: STATE_LABELS[member.state] }),
      h(
        "span",
        { class: "member__text" },
        h("span", { class: "member__name", "data-testid": "member-name" }, member.name),
        me ? h("span", { class: "member__me" }, " (you)") : null,
        member.typing && !me ? h("span", { class: "member__typing" }, "typing…") : null,
        member.state === "away" && !member.typing ? h("span", { class: "member__note" }, "away") : null,
      ),
    );
  }
}
