// The frame of a room page: header (room name, connection status, members button), the
// reconnect banner, the chat column and the members panel (a drawer on phones, a column on
// desktops). It only shows what room.js tells it.

import { h, icon, ICONS } from "./dom.js";

const DESKTOP = "(min-width: 900px)";

export class RoomLayout {
  /** `chat` holds the message list parts and the composer; `members` is the members <ul>. */
  constructor({ room, chat, members, onJump }) {
    this.room = room;
    this.title = h("h1", { class: "topbar__title", "data-testid": "room-title" }, room);
    this.statusText = h("span", { class: "status__text" });
    this.status = h(
      "p",
      { class: "status", "data-testid": "connection-status", role: "status" },
      h("span", { class: "status__dot", "aria-hidden": "true" }),
      this.statusText,
    );
    this.memberCount = h("span", { class: "topbar__count" });
    this.membersToggle = h(
      "button",
      {
        class: "icon-button topbar__members",
        type: "button",
        "data-testid": "members-toggle",
        "aria-controls": "members-panel",
        "aria-expanded": "false",
        "aria-label": "Members",
        title: "Members",
        onclick: () => this.setMembersOpen(this.element.dataset.membersOpen !== "true"),
      },
      icon("members", ICONS.members, 22),
      this.memberCount,
    );
    this.bannerText = h("span", { class: "banner__text" });
    this.bannerAction = h("a", { class: "banner__action", hidden: true, "data-testid": "banner-action" });
    this.banner = h(
      "div",
      { class: "banner", "data-testid": "banner", role: "alert", hidden: true },
      h("span", { class: "banner__spinner", "aria-hidden": "true" }),
      this.bannerText,
      this.bannerAction,
    );
    this.notice = h("div", { class: "notice", role: "alert", hidden: true });
    this.jump = h(
      "button",
      { class: "jump", type: "button", hidden: true, onclick: onJump },
      icon("down", ICONS.down, 16),
      "New messages",
    );
    this.typingLine = h("p", { class: "typing", "data-testid": "typing-line", "aria-live": "polite" });

    const panel = h(
      "aside",
      { class: "panel", id: "members-panel", "aria-label": "Members" },
      h(
        "div",
        { class: "panel__head" },
        h("h2", { class: "panel__title" }, "Members"),
        h(
          "button",
          { class: "icon-button panel__close", type: "button", "aria-label": "Close members", onclick: () => this.setMembersOpen(false) },
          icon("close", ICONS.close, 20),
        ),
      ),
      members,
    );
    this.element = h(
      "div",
      { class: "room" },
      h(
        "header",
        { class: "topbar" },
        h("a", { class: "icon-button topbar__back", href: "/", "aria-label": "Leave room", title: "Leave room" }, icon("back", ICONS.back, 22)),
        h("div", { class: "topbar__titles" }, this.title, this.status),
        this.membersToggle,
      ),
      this.banner,
      h(
        "div",
        { class: "room__body" },
        h("section", { class: "chat", "aria-label": "Chat" }, this.notice, chat.scroller, chat.loader, this.jump, this.typingLine, chat.composer),
        h("div", { class: "scrim", "aria-hidden": "true", onclick: () => this.setMembersOpen(false) }),
        panel,
      ),
    );

    // Members start open as a column on a desktop and closed as a drawer on a phone.
    const desktop = window.matchMedia(DESKTOP);
    this.setMembersOpen(desktop.matches);
    desktop.addEventListener("change", (event) => this.setMembersOpen(event.matches));
    this.element.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !desktop.matches) this.setMembersOpen(false);
    });
  }

  setMembersOpen(open) {
    this.element.dataset.membersOpen = String(open);
    this.membersToggle.setAttribute("aria-expanded", String(open));
  }

  /** Connection `status` (see Connection), its refusal `error`, and whether the room is joined. */
  setStatus(status, error, joined) {
    let state = status;
    let text = { connecting: "Connecting…", reconnecting: "Reconnecting…", refused: "Not connected" }[status];
    if (status === "connected") {
      state = joined ? "connected" : "joining";
      text = joined ? "Connected" : "Joining…";
    }
    this.status.dataset.status = state;
    this.statusText.textContent = text;

    // The banner shows while there is no connection, and only then.
    this.banner.hidden = status !== "reconnecting" && status !== "refused";
    this.banner.dataset.kind = status === "refused" ? "error" : "warning";
    if (status === "refused") {
      this.bannerText.textContent = `Can't connect: ${error?.message ?? "refused by the server."}`;
      this.bannerAction.textContent = "Try another name";
      this.bannerAction.href = `/r/${encodeURIComponent(this.room)}`;
      // Only a name the server would not take is fixed by another one; a refused link
      // (forbidden) is not, and its message says whom to ask.
      this.bannerAction.hidden = error?.code !== "bad_request";
    } else {
      this.bannerText.textContent = error ? `Reconnecting… (${error.message})` : "Reconnecting…";
      this.bannerAction.hidden = true;
    }
  }

  setPresence(onlineCount, typingLine) {
    this.memberCount.textContent = onlineCount > 0 ? String(onlineCount) : "";
    this.typingLine.textContent = typingLine;
  }

  showNotice(text) {
    this.notice.textContent = text ?? "";
    this.notice.hidden = !text;
  }

  showJump(shown) {
    this.jump.hidden = !shown;
  }
}
