// Signed links for testers: room, name and how long it works → the URL, a copy button and a
// QR code to scan with the lab phone. The server signs; the QR code comes as a data: image.

import { h } from "../dom.js";

async function copyText(text, field) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard API off secure origins (http on the LAN): select the text for Ctrl+C.
    field.focus();
    field.select();
    return false;
  }
}

export class LinkMaker {
  /** `create({room, name, expires, base})` resolves with `{url, qr}` or rejects with an Error. */
  constructor({ create }) {
    this.create = create;
    const field = (label, props) => {
      const input = h("input", { class: "field__input", ...props });
      return [input, h("label", { class: "field" }, h("span", { class: "field__label" }, label), input)];
    };
    let roomLabel, nameLabel, expiresLabel, baseLabel;
    [this.room, roomLabel] = field("Room", { required: true, maxlength: 64, "data-testid": "link-room", placeholder: "study-P07" });
    [this.name, nameLabel] = field("Tester's name", { required: true, maxlength: 64, "data-testid": "link-name", placeholder: "P07" });
    [this.expires, expiresLabel] = field("Works for", { value: "2h", "data-testid": "link-expires", placeholder: "2h, 90m, 7d; empty: forever" });
    [this.base, baseLabel] = field("Server address testers use", { value: window.location.origin, "data-testid": "link-base" });
    this.url = h("input", { class: "field__input link__url", readonly: true, "aria-label": "Signed link", "data-testid": "link-url" });
    this.copy = h("button", { type: "button", class: "button", "data-testid": "link-copy", onclick: () => this.copyUrl() }, "Copy");
    this.qr = h("img", { class: "link__qr", alt: "QR code of the link", "data-testid": "link-qr", width: 180, height: 180 });
    this.error = h("p", { class: "field__error", role: "alert", hidden: true });
    this.result = h("div", { class: "link__result", hidden: true }, h("div", { class: "tool__row" }, this.url, this.copy), this.qr);
    this.element = h(
      "section",
      { class: "tool", "aria-labelledby": "link-title" },
      h("h3", { class: "tool__title", id: "link-title" }, "Signed link for a tester"),
      h(
        "form",
        { class: "link__form", onsubmit: (event) => (event.preventDefault(), this.submit()) },
        roomLabel,
        nameLabel,
        expiresLabel,
        baseLabel,
        h("button", { type: "submit", class: "button button--primary", "data-testid": "link-create" }, "Create link"),
      ),
      this.error,
      this.result,
    );
  }

  /** Prefill the room with the one being watched. */
  setRoom(room) {
    if (!this.room.value || this.room.dataset.auto === "true") {
      this.room.value = room;
      this.room.dataset.auto = "true";
    }
  }

  async submit() {
    const expires = this.expires.value.trim();
    try {
      const made = await this.create({
        room: this.room.value.trim(),
        name: this.name.value.trim(),
        ...(expires ? { expires } : {}),
        base: this.base.value.trim() || window.location.origin,
      });
      this.url.value = made.url;
      if (typeof made.qr === "string" && made.qr.startsWith("data:image/")) this.qr.src = made.qr;
      this.qr.hidden = !this.qr.src;
      this.result.hidden = false;
      this.error.hidden = true;
    } catch (error) {
      this.result.hidden = true;
      this.error.textContent = error.message || "Could not make the link.";
      this.error.hidden = false;
    }
  }

  async copyUrl() {
    const copied = await copyText(this.url.value, this.url);
    this.copy.textContent = copied ? "Copied" : "Press Ctrl+C";
    setTimeout(() => (this.copy.textContent = "Copy"), 2000);
  }
}
