// The widget's DOM: a round chat button with an unread badge, and the panel it opens (a side
// panel on a desktop, the whole screen on a phone). Everything lives in a shadow root, so
// the prototype's CSS cannot reach in and ours cannot leak out; the stylesheet is loaded
// from the Roomcast server into that root.

import { h, icon, ICONS } from "../dom.js";

const CHAT_ICON = ["M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.5-4.9A8 8 0 1 1 21 12z"];

export class WidgetView {
  /**
   * `server` serves widget.css; `onToggle(open)` follows the button and the close button,
   * `onName(name)` the name form.
   */
  constructor({ server, onToggle, onName }) {
    this.host = document.createElement("roomcast-widget");
    // Set through the CSSOM, which a page's CSP does not block (a style attribute it may):
    // page rules without !important cannot move or hide the host.
    this.host.style.cssText = "all: initial; position: static; display: block;";
    this.shadow = this.host.attachShadow({ mode: "open" });

    this.badge = h("span", { class: "badge", "data-testid": "widget-badge", hidden: true });
    this.button = h(
      "button",
      {
        class: "launcher",
        type: "button",
        "data-testid": "widget-button",
        "aria-label": "Chat with the facilitator",
        title: "Chat",
        "aria-expanded": "false",
        onclick: () => onToggle(true),
      },
      icon("chat", CHAT_ICON, 28),
      this.badge,
    );

    this.title = h("h2", { class: "head__title", "data-testid": "widget-title" }, "Chat");
    this.status = h("p", { class: "head__status", "data-testid": "widget-status", "data-status": "connecting" });
    const close = h(
      "button",
      {
        class: "head__close",
        type: "button",
        "data-testid": "widget-close",
        "aria-label": "Close the chat",
        title: "Close",
        onclick: () => onToggle(false),
      },
      icon("close", ICONS.close, 22),
    );
    this.notice = h("p", { class: "notice", role: "alert", "data-testid": "widget-notice", hidden: true });
    this.nameInput = h("input", {
      class: "name__input",
      "data-testid": "widget-name",
      name: "name",
      autocomplete: "name",
      maxlength: 64,
      required: true,
      placeholder: "e.g. Sam",
    });
    this.nameForm = h(
      "form",
      { class: "name", "data-testid": "widget-name-form", hidden: true },
      h("label", { class: "name__label" }, "Your name", this.nameInput),
      h("button", { class: "name__join", type: "submit", "data-testid": "widget-join" }, "Start chatting"),
    );
    this.nameForm.addEventListener("submit", (event) => {
      event.preventDefault();
      onName(this.nameInput.value);
    });
    this.typing = h("p", { class: "typing", "aria-live": "polite", "data-testid": "widget-typing" });
    this.chat = h("div", { class: "chat", hidden: true });
    this.panel = h(
      "section",
      { class: "panel", "data-testid": "widget-panel", role: "dialog", "aria-label": "Chat", hidden: true },
      h("header", { class: "head" }, h("div", { class: "head__titles" }, this.title, this.status), close),
      this.notice,
      this.nameForm,
      this.chat,
    );
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") onToggle(false);
    });

    this.root = h("div", { class: "root", hidden: true }, this.button, this.panel);
    const sheet = h("link", { rel: "stylesheet", href: `${server}/widget.css` });
    // Shown once styled: an unstyled flash of the panel would land on the prototype.
    sheet.addEventListener("load", () => (this.root.hidden = false));
    sheet.addEventListener("error", () => console.error(`Roomcast widget: cannot load ${server}/widget.css`));
    this.shadow.append(sheet, this.root);
  }

  /** Put the widget on the page (at the end of <body>, where it stays above the page). */
  mount() {
    (document.body ?? document.documentElement).append(this.host);
    this.fit();
    window.addEventListener("resize", () => this.fit());
  }

  /**
   * Phone or desktop layout, from the screen rather than CSS media queries: a prototype
   * without <meta name="viewport"> is laid out 980px wide even on a phone. Such a page is
   * shown zoomed out, so the widget zooms in by as much to keep its size on the screen.
   */
  fit() {
    const screenWidth = window.screen?.width || window.innerWidth;
    const phone = Math.min(window.innerWidth, screenWidth) < 600;
    const zoom = phone && window.innerWidth > screenWidth ? window.innerWidth / screenWidth : 1;
    this.root.dataset.layout = phone ? "phone" : "desktop";
    this.root.style.setProperty("--zoom", String(zoom));
  }

  /** The message list, typing line and composer, once the widget knows who is chatting. */
  showChat({ scroller, composer }) {
    this.chat.replaceChildren(scroller, this.typing, composer);
    this.chat.hidden = false;
    this.nameForm.hidden = true;
  }

  askName(error) {
    this.chat.hidden = true;
    this.nameForm.hidden = false;
    this.showNotice(error);
  }

  setOpen(open) {
    this.panel.hidden = !open;
    this.button.hidden = open;
    this.button.setAttribute("aria-expanded", String(open));
    this.root.dataset.open = String(open);
  }

  setTitle(room, name) {
    this.title.textContent = name ? `Chat — ${name}` : "Chat";
    this.title.title = room ? `Room ${room}` : "";
  }

  setStatus(status, text) {
    this.status.dataset.status = status;
    this.status.textContent = text;
  }

  setUnread(count) {
    this.badge.hidden = count === 0;
    this.badge.textContent = count > 99 ? "99+" : String(count);
    this.button.setAttribute("aria-label", count ? `Chat: ${count} unread` : "Chat with the facilitator");
  }

  showNotice(text) {
    this.notice.hidden = !text;
    this.notice.textContent = text ?? "";
  }

  setTyping(text) {
    this.typing.textContent = text;
  }
}
