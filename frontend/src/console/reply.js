// The reply box under a room's timeline: send a reply (or a system message), add a note only
// facilitators see, and — for Wizard-of-Oz sessions — show testers "… is typing" under a
// chosen name for as long as the facilitator wants, not while keys happen to be pressed.

import { h } from "../dom.js";

const TYPING_REFRESH_MS = 2500; // testers' pages forget a typing notice that is not renewed

export class ReplyBox {
  /**
   * `send(text, {system})` and `note(text)` return promises that reject with an Error whose
   * message is shown; `typing(on, name)` emits the typing notice.
   */
  constructor({ send, note, typing, typingName, onTypingName }) {
    this.sendText = send;
    this.addNote = note;
    this.emitTyping = typing;
    this.typingTimer = null;
    this.busy = false;

    this.input = h("textarea", {
      class: "reply__input",
      rows: 2,
      placeholder: "Reply…",
      "aria-label": "Reply",
      "data-testid": "reply-input",
      onkeydown: (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          this.submit("send");
        }
      },
    });
    this.system = h("input", { type: "checkbox", "data-testid": "send-as-system" });
    this.typingToggle = h("input", {
      type: "checkbox",
      "data-testid": "typing-as-toggle",
      onchange: () => this.setTyping(this.typingToggle.checked),
    });
    this.typingName = h("input", {
      class: "reply__typing-name",
      value: typingName,
      maxlength: 64,
      "aria-label": "Name shown typing",
      "data-testid": "typing-as-name",
      onchange: () => {
        onTypingName(this.typingName.value.trim());
        if (this.typingToggle.checked) this.setTyping(true);
      },
    });
    this.error = h("p", { class: "reply__error", role: "alert", "data-testid": "reply-error", hidden: true });
    this.element = h(
      "form",
      {
        class: "reply",
        "data-testid": "reply",
        onsubmit: (event) => {
          event.preventDefault();
          this.submit("send");
        },
      },
      this.error,
      this.input,
      h(
        "div",
        { class: "reply__row" },
        h("label", { class: "check", title: "Sent with no sender, shown as a system line" }, this.system, "As system"),
        h(
          "label",
          { class: "check", title: "Testers see this name typing until you turn it off or send" },
          this.typingToggle,
          "Typing as",
          this.typingName,
        ),
        h(
          "span",
          { class: "reply__actions" },
          h(
            "button",
            {
              type: "button",
              class: "button button--note",
              title: "On the timeline for facilitators only; testers never see notes",
              "data-testid": "add-note",
              onclick: () => this.submit("note"),
            },
            "Add note",
          ),
          h("button", { type: "submit", class: "button button--primary", "data-testid": "reply-send" }, "Send"),
        ),
      ),
    );
  }

  /** A new room was opened: its placeholder, and typing stops in the room left behind. */
  setRoom(room) {
    this.setTyping(false);
    this.input.placeholder = `Reply in ${room}… (Enter sends, Shift+Enter for a new line)`;
    this.showError(null);
  }

  insert(text) {
    const { selectionStart: start, selectionEnd: end, value } = this.input;
    this.input.value = value.slice(0, start) + text + value.slice(end);
    this.input.focus();
    this.input.selectionStart = this.input.selectionEnd = start + text.length;
  }

  setTyping(on) {
    clearInterval(this.typingTimer);
    this.typingTimer = null;
    const wasOn = this.typingOn;
    this.typingOn = on;
    this.typingToggle.checked = on;
    const name = this.typingName.value.trim() || undefined;
    if (on) {
      this.emitTyping(true, name);
      this.typingTimer = setInterval(() => this.emitTyping(true, name), TYPING_REFRESH_MS);
    } else if (wasOn) {
      this.emitTyping(false, name);
    }
  }

  /** Send `text` now (a canned reply), as if typed and sent. */
  sendNow(text) {
    return this.deliver("send", text);
  }

  async submit(action) {
    const text = this.input.value.trim();
    if (!text || this.busy) return;
    if (await this.deliver(action, text)) this.input.value = "";
  }

  async deliver(action, text) {
    this.busy = true;
    try {
      if (action === "note") {
        await this.addNote(text);
      } else {
        await this.sendText(text, { system: this.system.checked });
        this.setTyping(false); // the "typed" message has arrived
      }
      this.showError(null);
      return true;
    } catch (error) {
      this.showError(error.message || "Could not send.");
      return false;
    } finally {
      this.busy = false;
    }
  }

  showError(message) {
    this.error.hidden = !message;
    this.error.textContent = message ?? "";
  }
}
