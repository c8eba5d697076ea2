// Canned replies: the facilitator's ready-made answers, kept on the server for every console.
// Click one to put it in the reply box, "Send" to send it at once; add and remove save at once.

import { h } from "../dom.js";

export class CannedReplies {
  /** `save(replies)` stores the list and resolves with the stored one; `use`/`send` take a text. */
  constructor({ save, use, send }) {
    this.save = save;
    this.use = use;
    this.send = send;
    this.replies = [];
    this.list = h("ul", { class: "canned__list", "data-testid": "canned-list" });
    this.input = h("input", {
      class: "field__input",
      placeholder: "A reply you give often",
      maxlength: 4000,
      "aria-label": "New canned reply",
      "data-testid": "canned-input",
    });
    this.error = h("p", { class: "field__error", role: "alert", hidden: true });
    this.element = h(
      "section",
      { class: "tool", "aria-labelledby": "canned-title" },
      h("h3", { class: "tool__title", id: "canned-title" }, "Canned replies"),
      this.list,
      h(
        "form",
        {
          class: "tool__row",
          onsubmit: (event) => {
            event.preventDefault();
            const text = this.input.value.trim();
            if (text) this.store([...this.replies, text]).then((ok) => ok && (this.input.value = ""));
          },
        },
        this.input,
        h("button", { type: "submit", class: "button", "data-testid": "canned-add" }, "Add"),
      ),
      this.error,
    );
    this.render();
  }

  set(replies) {
    this.replies = Array.isArray(replies) ? replies.filter((r) => typeof r === "string") : [];
    this.render();
  }

  async store(replies) {
    try {
      this.set(await this.save(replies));
      this.error.hidden = true;
      return true;
    } catch (error) {
      this.error.textContent = error.message || "Could not save the canned replies.";
      this.error.hidden = false;
      return false;
    }
  }

  render() {
    if (this.replies.length === 0) {
      this.list.replaceChildren(h("li", { class: "muted" }, "None yet: add the answers you give often."));
      return;
    }
    this.list.replaceChildren(
      ...this.replies.map((text, index) =>
        h(
          "li",
          { class: "canned", "data-testid": "canned-reply" },
          h(
            "button",
            { type: "button", class: "canned__text", title: "Put it in the reply box", onclick: () => this.use(text) },
            text,
          ),
          h(
            "button",
            { type: "button", class: "canned__action", "data-testid": "canned-send", onclick: () => this.send(text) },
            "Send",
          ),
          h(
            "button",
            {
              type: "button",
              class: "canned__action canned__remove",
              "aria-label": `Remove “${text}”`,
              "data-testid": "canned-remove",
              onclick: () => this.store(this.replies.filter((_, i) => i !== index)),
            },
            "×",
          ),
        ),
      ),
    );
  }
}
