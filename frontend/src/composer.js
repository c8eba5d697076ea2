// The message box at the bottom: a textarea that grows with its text, Enter sends,
// Shift+Enter starts a new line.

import { h, icon, ICONS } from "./dom.js";

const MAX_ROWS_PX = 140;

export class Composer {
  /** onSend(text) gets the trimmed text; onInput(hasText) follows every change. */
  constructor({ onSend, onInput }) {
    this.input = h("textarea", {
      class: "composer__input",
      "data-testid": "composer-input",
      rows: 1,
      placeholder: "Message",
      "aria-label": "Message",
      enterkeyhint: "send",
      autocomplete: "off",
    });
    this.button = h(
      "button",
      { class: "composer__send", type: "submit", "data-testid": "composer-send", "aria-label": "Send", title: "Send" },
      icon("send", ICONS.send, 22),
    );
    this.form = h("form", { class: "composer", "aria-label": "Send a message" }, this.input, this.button);

    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => {
      this.fit();
      onInput(this.input.value.trim() !== "");
    });
    this.onSend = onSend;
  }

  submit() {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.value = "";
    this.fit();
    this.onSend(text);
    this.input.focus();
  }

  /** Grow the textarea with its content, up to a few lines. */
  fit() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, MAX_ROWS_PX)}px`;
  }
}
