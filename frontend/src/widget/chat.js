// The conversation of one room: connects (token or name), joins on every (re)connect and
// shows the room's latest messages again, so a new page of the prototype picks up where the
// last one stopped; catches up by offset after a cut, sends through the outbox (retried
// with the same cid), and keeps the unread count from the server's read position, which
// outlives the page.

import { Composer } from "../composer.js";
import { Connection } from "../connection.js";
import { newCid } from "../ids.js";
import { MessageList } from "../messages.js";
import { Outbox } from "../outbox.js";
import { TypingNotifier, typingText } from "../typing.js";

const MAX_QUEUED_STEPS = 100;

export class Chat {
  /**
   * `hooks`: status(status, error), message(message, fresh), unread(count), typing(text),
   * joined(me). `isReading()` says whether the tester can see the messages now.
   */
  constructor({ server, room, auth, hooks, isReading }) {
    this.room = room;
    this.hooks = hooks;
    this.isReading = isReading;
    this.myIds = new Set();
    this.myCids = new Set();
    this.highest = null; // every offset up to here is shown
    this.readOffset = 0; // the server's read position of this member
    this.joined = false;
    this.joining = false;
    this.buffer = [];
    this.steps = []; // track() calls waiting for the join
    this.typists = new Map(); // member id -> name

    this.messages = new MessageList({ isOwn: (message) => this.isOwn(message), onRetry: (cid) => this.resend(cid) });
    this.payloads = new Map();
    this.outbox = new Outbox({
      transmit: (payload) => this.connection.request("send", payload, 8000),
      canSend: () => this.joined && this.connection.connected,
      onSent: (cid, message) => this.show([{ ...message, cid }], false),
      onFailed: (cid, error) => this.messages.fail(cid, error),
    });
    this.typingNotifier = new TypingNotifier((typing) => {
      if (this.joined) this.connection.notify("typing", { room: this.room, typing });
    });
    this.composer = new Composer({
      onSend: (text) => this.send(text),
      onInput: (hasText) => this.typingNotifier.input(hasText),
    });

    this.connection = new Connection(auth, server);
    this.connection.subscribe((status, error) => hooks.status(status, error, this.joined));
    const socket = this.connection.socket;
    socket.on("connect", () => {
      this.joined = false;
      if (document.visibilityState === "hidden") this.connection.notify("state", { state: "away" });
      this.join();
    });
    socket.on("disconnect", () => {
      this.joined = false;
      this.typingNotifier.reset();
    });
    socket.on("message", (message) => this.receive(message));
    socket.on("typing", (event) => this.typingChanged(event));
    document.addEventListener("visibilitychange", () => {
      const hidden = document.visibilityState === "hidden";
      this.connection.notify("state", { state: hidden ? "away" : "online" });
      if (!hidden) this.markRead();
    });
  }

  isOwn(message) {
    if (typeof message.cid === "string" && this.myCids.has(message.cid)) return true;
    return Boolean(message.sender) && this.myIds.has(message.sender.id);
  }

  async join() {
    if (this.joining) return;
    this.joining = true;
    try {
      for (let round = 0; round < 20 && this.connection.connected; round += 1) {
        const payload = this.highest === null ? { room: this.room } : { room: this.room, since: this.highest };
        let ack;
        try {
          ack = await this.connection.request("join", payload, 10000);
        } catch (err) {
          if (err.code === "timeout") continue;
          return; // disconnected: the next connect joins again
        }
        if (!ack.ok) {
          const error = ack.error ?? {};
          this.hooks.status("refused", { code: String(error.code), message: String(error.message ?? "") }, false);
          return;
        }
        if (ack.me && ack.me.id !== undefined) this.myIds.add(ack.me.id);
        if (Number.isInteger(ack.read)) this.readOffset = Math.max(this.readOffset, ack.read);
        const first = this.highest === null;
        const messages = validMessages(ack.messages);
        this.show(messages, !first);
        if (first) this.messages.setAtStart(ack.more !== true);
        const newest = Number.isInteger(ack.offset) ? ack.offset : null;
        if (newest !== null && (this.highest === null || messages.length === 0)) {
          this.highest = Math.max(this.highest ?? newest, newest);
        }
        this.joined = true;
        this.hooks.joined(ack.me ?? null);
        if (newest === null || newest <= this.highest) break;
      }
    } finally {
      this.joining = false;
    }
    if (!this.joined) return;
    const held = this.buffer.sort((a, b) => a.offset - b.offset);
    this.buffer = [];
    this.show(held, true);
    this.hooks.status(this.connection.status, this.connection.error, true);
    this.outbox.flush();
    for (const step of this.steps.splice(0)) this.connection.notify("track", step);
    this.updateUnread();
    this.markRead();
  }

  receive(message) {
    if (!message || message.room !== this.room || !Number.isInteger(message.offset)) return;
    if (this.messages.has(message.offset)) return;
    if (!this.joined || this.joining) {
      this.buffer.push(message);
    } else if (this.highest !== null && message.offset > this.highest + 1) {
      this.buffer.push(message); // a gap: join again from what we have, then show the rest
      this.joined = false;
      this.join();
    } else {
      this.show([message], true);
    }
  }

  /** Show messages in offset order; `fresh` ones are new to the tester (events, unread). */
  show(batch, fresh) {
    const list = this.messages;
    const stick = list.atBottom;
    let added = false;
    for (const message of batch) {
      if (!message || !Number.isInteger(message.offset)) continue;
      const shown =
        typeof message.cid === "string" && list.isPending(message.cid)
          ? list.confirm(message.cid, message)
          : list.add(message);
      if (typeof message.cid === "string" && this.payloads.has(message.cid)) {
        this.outbox.settle(message.cid);
        this.payloads.delete(message.cid);
      }
      if (this.highest === null || message.offset > this.highest) this.highest = message.offset;
      if (!shown) continue;
      added = true;
      if (message.sender && this.typists.delete(message.sender.id)) this.renderTyping();
      this.hooks.message(message, fresh);
    }
    if (!added) return;
    if (stick || !fresh) list.scrollToBottom();
    this.updateUnread();
    this.markRead();
  }

  /** Messages from others after the server's read position. */
  updateUnread() {
    let count = 0;
    for (const li of this.messages.list.children) {
      if (li.dataset.own === "false" && Number(li.dataset.offset) > this.readOffset) count += 1;
    }
    this.hooks.unread(count);
  }

  /** The tester sees the panel: everything shown is read, here and on the server. */
  markRead() {
    if (!this.joined || !this.isReading() || document.visibilityState === "hidden") return;
    const offset = this.messages.highest;
    if (offset === null || offset <= this.readOffset) return;
    this.readOffset = offset;
    this.connection.notify("read", { room: this.room, offset });
    this.updateUnread();
  }

  send(text) {
    const cid = newCid();
    const payload = { room: this.room, text, cid };
    this.myCids.add(cid);
    this.payloads.set(cid, payload);
    this.typingNotifier.stop();
    this.messages.addPending({ cid, text, ts: Date.now() });
    this.messages.scrollToBottom();
    this.outbox.add(payload);
  }

  resend(cid) {
    const payload = this.payloads.get(cid);
    if (payload) this.outbox.add(payload);
  }

  /** Report a step of the prototype to the room's timeline (queued until joined). */
  track(step, data) {
    const payload = { room: this.room, step: String(step) };
    if (data !== undefined) payload.data = data;
    if (this.joined && this.connection.connected) this.connection.notify("track", payload);
    else if (this.steps.length < MAX_QUEUED_STEPS) this.steps.push(payload);
  }

  typingChanged(event) {
    if (!event || event.room !== this.room || !event.member || this.myIds.has(event.member.id)) return;
    if (event.typing === true) this.typists.set(event.member.id, String(event.member.name ?? ""));
    else this.typists.delete(event.member.id);
    this.renderTyping();
  }

  renderTyping() {
    this.hooks.typing(typingText([...this.typists.values()]));
  }
}

function validMessages(messages) {
  if (!Array.isArray(messages)) return [];
  return messages.filter((message) => message && Number.isInteger(message.offset)).sort((a, b) => a.offset - b.offset);
}
