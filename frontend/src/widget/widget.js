// The widget on a page: who is chatting (identity.js), the button and panel (view.js), the
// conversation (chat.js), and the page's ways in and out (events.js): window.Roomcast and
// postMessage. The panel's open state and the tester's identity outlive the page in
// sessionStorage, so a click to the prototype's next page keeps the chat as it was.

import { nameError, normalizeName } from "../validate.js";
import { Chat } from "./chat.js";
import { Emitter, listen, post } from "./events.js";
import { resolveIdentity } from "./identity.js";
import { loadSession, saveSession } from "./session.js";
import { WidgetView } from "./view.js";

const STATUS_TEXT = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  refused: "Not connected",
};

export class Widget {
  /** `server`: the Roomcast origin; `room`: the script's data-room; `parentOrigin`: see events.js. */
  constructor({ server, room, parentOrigin }) {
    this.server = server;
    this.parentOrigin = parentOrigin;
    this.events = new Emitter();
    this.chat = null;
    this.earlySteps = [];
    const saved = loadSession();
    this.identity = resolveIdentity(new URLSearchParams(window.location.search), saved, room);
    this.open = saved.open === true;
    this.view = new WidgetView({
      server,
      onToggle: (open) => this.setOpen(open),
      onName: (name) => this.nameGiven(name),
    });
    listen((command) => this.command(command), parentOrigin);
  }

  start() {
    const { token, name, room, shownName } = this.identity;
    this.view.mount();
    this.view.setTitle(room, shownName);
    this.view.setOpen(this.open);
    if (!room) {
      this.view.setStatus("refused", STATUS_TEXT.refused);
      this.view.showNotice("This page names no chat room: add data-room=\"…\" to the widget's script.");
      return;
    }
    if (token) saveSession({ token, name: null, room });
    else if (name) saveSession({ name, token: null, room });
    if (token || name) this.connect();
    else this.askName(null);
  }

  askName(error) {
    this.view.setStatus("connecting", "Tell us your name to start");
    this.view.askName(error);
    if (this.open) this.view.nameInput.focus();
  }

  nameGiven(raw) {
    const name = normalizeName(raw);
    const problem = nameError(name);
    if (problem) {
      this.view.showNotice(problem);
      return;
    }
    this.identity = { ...this.identity, name, shownName: name };
    saveSession({ name, token: null, room: this.identity.room });
    this.view.setTitle(this.identity.room, name);
    this.view.showNotice(null);
    this.connect();
  }

  connect() {
    const { token, name, room } = this.identity;
    this.chat = new Chat({
      server: this.server,
      room,
      auth: token ? { token } : { name },
      isReading: () => this.open,
      hooks: {
        status: (status, error, joined) => this.statusChanged(status, error, joined),
        message: (message, fresh) => {
          if (!fresh) return;
          this.events.emit("message", message);
          post("message", { message }, this.parentOrigin);
        },
        unread: (count) => this.view.setUnread(this.open ? 0 : count),
        typing: (text) => this.view.setTyping(text),
        joined: (me) => {
          if (me && typeof me.name === "string") this.view.setTitle(room, me.name);
        },
      },
    });
    for (const [step, data] of this.earlySteps.splice(0)) this.chat.track(step, data);
    this.view.showChat({ scroller: this.chat.messages.scroller, composer: this.chat.composer.form });
    if (this.open) this.chat.composer.input.focus();
  }

  statusChanged(status, error, joined) {
    const shown = status === "connected" && !joined ? "connecting" : status;
    this.view.setStatus(shown, STATUS_TEXT[shown] ?? shown);
    // A refusal: the server's message is written for people (expired link, names not allowed…).
    this.view.showNotice(status === "refused" && error ? error.message : null);
    // Nothing can be sent until the tester has a new link: no composer to type into meanwhile.
    if (this.chat) this.view.chat.hidden = status === "refused";
    this.events.emit("status", { status: shown, error: error ?? null });
    if (status === "refused" && error && error.code === "bad_request" && !this.identity.token) {
      this.askName(error.message); // a name the server would not take: let the tester fix it
    }
  }

  setOpen(open) {
    if (open === this.open) return;
    this.open = open;
    saveSession({ open });
    this.view.setOpen(open);
    if (open) {
      this.view.setUnread(0);
      if (this.chat) {
        this.chat.messages.scrollToBottom();
        this.chat.markRead();
        this.chat.composer.input.focus();
      } else {
        this.view.nameInput.focus();
      }
    } else {
      this.chat?.updateUnread();
      this.view.button.focus();
    }
    this.events.emit(open ? "open" : "close", {});
    post(open ? "open" : "close", {}, this.parentOrigin);
  }

  track(step, data) {
    if (typeof step !== "string" || step === "") throw new TypeError("Roomcast.track(step, data): step must be text");
    // Steps reported before the tester has given a name wait for the chat to start.
    if (this.chat) this.chat.track(step, data);
    else if (this.earlySteps.length < 100) this.earlySteps.push([step, data]);
  }

  command({ command, step, data }) {
    if (command === "open") this.setOpen(true);
    else if (command === "close") this.setOpen(false);
    else if (command === "track" && typeof step === "string" && step) this.track(step, data);
  }

  /** window.Roomcast. */
  api() {
    const widget = this;
    return {
      open: () => widget.setOpen(true),
      close: () => widget.setOpen(false),
      get isOpen() {
        return widget.open;
      },
      on: (type, listener) => this.events.on(type, listener),
      track: (step, data) => this.track(step, data),
      server: this.server,
    };
  }
}
