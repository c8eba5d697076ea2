// The console's frame: a bar (status, sign out), the connection banner, and three panes —
// rooms, the open room, tools. Desktops show them side by side; a phone shows the rooms list,
// then the room (with a back button), and tools as a sheet over the room.

import { h, icon, ICONS } from "../dom.js";

const STATUS_TEXT = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  refused: "Not connected",
};

export class ConsoleLayout {
  constructor(root, { rooms, timeline, reply, tools, onBack }) {
    this.statusText = h("span", {}, STATUS_TEXT.connecting);
    this.status = h(
      "p",
      { class: "status", "data-testid": "connection-status", "data-status": "connecting", role: "status" },
      h("span", { class: "status__dot", "aria-hidden": "true" }),
      this.statusText,
    );
    this.bannerText = h("span", {});
    this.bannerAction = h("a", { class: "banner__action", href: "/console", hidden: true }, "Sign in again");
    this.banner = h(
      "div",
      { class: "banner", "data-testid": "banner", role: "alert", hidden: true },
      h("span", { class: "banner__spinner", "aria-hidden": "true" }),
      this.bannerText,
      this.bannerAction,
    );
    this.title = h("h2", { class: "room-head__title", "data-testid": "room-title" }, "");
    this.people = h("div", { class: "room-head__people", "data-testid": "room-people" });
    this.toolsButton = h(
      "button",
      {
        type: "button",
        class: "button room-head__tools",
        "aria-expanded": "false",
        "data-testid": "tools-toggle",
        onclick: () => this.toggleTools(),
      },
      "Tools",
    );
    this.typingLine = h("p", { class: "typing", "data-testid": "typing-line", "aria-live": "polite" });
    this.placeholder = h(
      "div",
      { class: "room-placeholder", "data-testid": "room-placeholder" },
      h("p", {}, "Pick a room on the left to watch it and answer."),
      h("p", { class: "muted" }, "Watching never shows you in the room; only what you send does."),
    );
    this.roomView = h(
      "div",
      { class: "room-view", hidden: true },
      h(
        "header",
        { class: "room-head" },
        h(
          "button",
          { type: "button", class: "icon-button room-head__back", "aria-label": "All rooms", "data-testid": "back", onclick: onBack },
          icon("back", ICONS.back),
        ),
        h("div", { class: "room-head__titles" }, this.title, this.people),
        this.toolsButton,
      ),
      timeline,
      this.typingLine,
      reply,
    );
    this.toolsPane = h(
      "aside",
      { class: "tools-pane", "aria-label": "Tools", "data-testid": "tools" },
      h(
        "div",
        { class: "tools-pane__head" },
        h("h2", { class: "pane-title" }, "Tools"),
        h(
          "button",
          { type: "button", class: "icon-button tools-pane__close", "aria-label": "Close tools", onclick: () => this.toggleTools(false) },
          icon("close", ICONS.close),
        ),
      ),
      ...tools,
    );
    this.element = h(
      "div",
      { class: "console", "data-view": "rooms", "data-tools-open": "false" },
      h(
        "header",
        { class: "console-bar" },
        h("h1", { class: "console-bar__brand" }, "Roomcast ", h("span", { class: "console-bar__sub" }, "console")),
        this.status,
        h("span", { class: "console-bar__spacer" }),
        h(
          "form",
          { method: "post", action: "/console/logout" },
          h("button", { type: "submit", class: "button", "data-testid": "sign-out" }, "Sign out"),
        ),
      ),
      this.banner,
      h(
        "div",
        { class: "console__body" },
        rooms,
        h("main", { class: "room-pane" }, this.placeholder, this.roomView),
        this.toolsPane,
      ),
    );
    root.replaceChildren(this.element);
  }

  /** "rooms" or "room": which pane a phone shows. */
  setView(view) {
    this.element.dataset.view = view;
  }

  get view() {
    return this.element.dataset.view;
  }

  showRoom(room) {
    this.placeholder.hidden = room !== null;
    this.roomView.hidden = room === null;
    this.title.textContent = room ?? "";
    document.title = room ? `${room} · Roomcast console` : "Roomcast console";
  }

  toggleTools(open = this.element.dataset.toolsOpen !== "true") {
    this.element.dataset.toolsOpen = String(open);
    this.toolsButton.setAttribute("aria-expanded", String(open));
  }

  setStatus(status, error) {
    this.status.dataset.status = status;
    this.statusText.textContent = STATUS_TEXT[status] ?? status;
    const show = status === "reconnecting" || status === "refused";
    this.banner.hidden = !show;
    this.banner.dataset.kind = status === "refused" ? "error" : "warning";
    this.bannerAction.hidden = status !== "refused";
    this.bannerText.textContent =
      status === "refused"
        ? `The server refused the console: ${error?.message ?? "no access"}.`
        : "Connection lost. Reconnecting… you can send again once it is back.";
  }
}
