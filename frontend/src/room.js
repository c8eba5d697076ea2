// A chat room page: joins the room on every (re)connect, keeps its messages complete and in
// order (catching up by offset after a cut or a gap), sends through the outbox, and keeps the
// header, banner, members, typing line, title and read position up to date.

import { Composer } from "./composer.js";
import { Connection } from "./connection.js";
import { newCid } from "./ids.js";
import { RoomLayout } from "./layout.js";
import { Members } from "./members.js";
import { MessageList } from "./messages.js";
import { Outbox } from "./outbox.js";
import { TypingNotifier, typingText } from "./typing.js";

const HISTORY_PAGE = 50;
const MAX_CATCH_UP_ROUNDS = 20;
const RETRYABLE_JOIN_ERRORS = new Set(["unavailable", "rate_limited"]);

/** Show room `room` in `root`, connected as `name` (or with a signed link `token`). */
export function openRoom(root, { room, name, token }) {
  return new RoomPage(root, { room, name, token });
}

class RoomPage {
  constructor(root, { room, name, token }) {
    this.room = room;
    this.myIds = new Set();
    this.myCids = new Set();
    this.highest = null; // every offset up to this one has been shown (or never existed)
    this.joined = false; // joined on the current connection
    this.joinedOnce = false;
    this.syncing = false;
    this.syncAgain = false;
    this.buffer = []; // live messages held back while (re)joining or filling a gap
    this.hasMore = true; // older messages may exist
    this.loadingHistory = false;
    this.unread = 0;
    this.readSent = -Infinity;
    this.readTimer = null;
    this.stickToBottom = true;

    this.messages = new MessageList({
      isOwn: (message) => this.isOwn(message),
      onRetry: (cid) => this.resend(cid),
    });
    this.members = new Members({
      isMe: (id) => this.myIds.has(id),
      onChange: () => this.renderPresence(),
    });
    this.payloads = new Map(); // cid -> send payload, kept until the message is confirmed
    this.outbox = new Outbox({
      transmit: (payload) => this.connection.request("send", payload, 8000),
      canSend: () => this.joined && this.connection.connected,
      // An ack may overtake the broadcasts of earlier messages: it does not move `highest` past them.
      onSent: (cid, message) => this.applyBatch([{ ...message, cid }], { fresh: false }),
      onFailed: (cid, error) => this.messages.fail(cid, error),
    });
    this.typing = new TypingNotifier((typing) => {
      if (this.joined) this.connection.notify("typing", { room: this.room, typing });
    });
    this.composer = new Composer({
      onSend: (text) => this.send(text),
      onInput: (hasText) => this.typing.input(hasText),
    });

    this.build(root);
    this.updateTitle();

    this.connection = new Connection(token ? { token, ...(name ? { name } : {}) } : { name });
    this.connection.subscribe(() => this.renderStatus());
    const socket = this.connection.socket;
    socket.on("connect", () => {
      this.joined = false;
      // Before the join, so that a hidden page does not show up as online first.
      if (document.visibilityState === "hidden") this.connection.notify("state", { state: "away" });
      this.sync();
    });
    socket.on("disconnect", () => {
      this.joined = false;
      this.typing.reset();
      this.renderStatus();
    });
    // Extra arguments (Socket.IO's recovery offset) are ignored.
    socket.on("message", (message) => this.receive(message));
    socket.on("presence", (event) => {
      if (event && event.room === this.room) this.members.replace(event.members);
    });
    socket.on("typing", (event) => {
      if (event && event.room === this.room && event.member && !this.myIds.has(event.member.id)) {
        this.members.setTyping(event.member, event.typing === true);
      }
    });
    socket.on("read", (event) => {
      if (event && event.room === this.room && event.member && !this.myIds.has(event.member.id)) {
        if (Number.isInteger(event.offset)) this.messages.setReadUpTo(event.offset);
      }
    });
    document.addEventListener("visibilitychange", () => this.visibilityChanged());
  }

  isOwn(message) {
    if (typeof message.cid === "string" && this.myCids.has(message.cid)) return true;
    return Boolean(message.sender) && this.myIds.has(message.sender.id);
  }

  // Layout.

  build(root) {
    this.layout = new RoomLayout({
      room: this.room,
      chat: { scroller: this.messages.scroller, loader: this.messages.loader, composer: this.composer.form },
      members: this.members.list,
      onJump: () => this.scrollToBottom(),
    });
    const scroller = this.messages.scroller;
    scroller.addEventListener(
      "scroll",
      () => {
        this.stickToBottom = this.messages.atBottom;
        if (this.stickToBottom) this.layout.showJump(false);
        if (this.messages.atTop) this.loadOlder();
      },
      { passive: true },
    );
    // The phone keyboard or a window resize shrinks the list: stay at the bottom if we were.
    new ResizeObserver(() => {
      if (this.stickToBottom) this.messages.scrollToBottom();
    }).observe(scroller);

    root.replaceChildren(this.layout.element);
    this.renderPresence();
    this.composer.input.focus();
  }

  renderStatus() {
    this.layout.setStatus(this.connection.status, this.connection.error, this.joined);
  }

  renderPresence() {
    this.layout?.setPresence(this.members.onlineCount, typingText(this.members.typingNames()));
  }

  updateTitle() {
    const base = `${this.room} — Roomcast`;
    document.title = this.unread > 0 ? `(${this.unread}) ${base}` : base;
  }

  // Joining and catching up.

  /** Join (or re-join) and fetch everything after the highest offset shown; then drain the buffer. */
  async sync() {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    try {
      do {
        this.syncAgain = false;
        await this.joinAndCatchUp();
      } while (this.syncAgain && this.connection.connected);
    } finally {
      this.syncing = false;
    }
    if (!this.joined) return;
    this.drainBuffer();
    this.afterJoin();
  }

  async joinAndCatchUp() {
    for (let round = 0; round < MAX_CATCH_UP_ROUNDS && this.connection.connected; round += 1) {
      const payload = this.highest === null ? { room: this.room } : { room: this.room, since: this.highest };
      let ack;
      try {
        ack = await this.connection.request("join", payload, 10000);
      } catch (err) {
        if (err.code !== "timeout") return; // disconnected: the next connect joins again
        continue;
      }
      if (!ack.ok) {
        this.joinFailed(ack.error ?? {});
        return;
      }
      this.joined = true;
      this.layout.showNotice(null);
      if (ack.me && ack.me.id !== undefined) this.myIds.add(ack.me.id);
      if (Number.isInteger(ack.read)) this.readSent = Math.max(this.readSent, ack.read);
      if (Array.isArray(ack.members)) this.members.replace(ack.members);
      const messages = validMessages(ack.messages);
      const first = !this.joinedOnce;
      this.joinedOnce = true;
      if (first && typeof ack.more === "boolean") this.hasMore = ack.more;
      // What a join returns is complete from `since` (or is the newest page): all of it is in order.
      this.applyBatch(messages, { fresh: !first, force: true, initial: first });
      const newest = Number.isInteger(ack.offset) ? ack.offset : null;
      if (this.highest === null || messages.length === 0) {
        if (newest !== null) this.highest = Math.max(this.highest ?? newest, newest);
        // An empty room has nothing older: every message from now on arrives live.
        if (messages.length === 0) this.hasMore = this.hasMore && this.messages.lowest !== null;
        this.messages.setAtStart(!this.hasMore);
      }
      this.renderStatus();
      if (newest === null || this.highest === null || newest <= this.highest) return;
      // The answer was a page short of the newest message: ask for the rest.
    }
    if (this.connection.connected && !this.joined) setTimeout(() => this.sync(), 3000);
  }

  joinFailed(error) {
    const message = String(error.message ?? "The room could not be joined.");
    this.layout.showNotice(`Can't join this room: ${message}`);
    if (RETRYABLE_JOIN_ERRORS.has(error.code)) setTimeout(() => this.sync(), 3000);
  }

  afterJoin() {
    this.scheduleRead();
    this.outbox.flush();
    this.renderStatus();
    this.fillScreen();
  }

  /** A `message` event. Held back while joining; a gap in offsets triggers a catch-up first. */
  receive(message) {
    if (!message || message.room !== this.room || !Number.isInteger(message.offset)) return;
    if (this.messages.has(message.offset)) return;
    if (!this.joined || this.syncing) {
      this.buffer.push(message);
      return;
    }
    if (this.highest !== null && message.offset > this.highest + 1) {
      this.buffer.push(message);
      this.sync();
      return;
    }
    this.applyBatch([message], { fresh: true });
  }

  drainBuffer() {
    const held = this.buffer.sort((a, b) => a.offset - b.offset);
    this.buffer = [];
    // After a catch-up, whatever is still missing is gone for good: show the rest in order.
    this.applyBatch(held, { fresh: true, force: true });
  }

  /**
   * Show messages (sorted by offset). `fresh`: new to the reader (unread count);
   * `force`: advance the highest offset even past a gap (answers from the server are complete).
   */
  applyBatch(batch, { fresh, force = false, initial = false }) {
    const wasAtBottom = initial || this.messages.atBottom;
    let added = 0;
    let ownAdded = false;
    for (const message of batch) {
      if (!message || !Number.isInteger(message.offset)) continue;
      if (message.room !== undefined && message.room !== this.room) continue;
      const own = this.isOwn(message);
      const shown =
        typeof message.cid === "string" && this.messages.isPending(message.cid)
          ? this.messages.confirm(message.cid, message)
          : this.messages.add(message);
      if (typeof message.cid === "string" && this.payloads.has(message.cid)) {
        this.outbox.settle(message.cid);
        this.payloads.delete(message.cid);
      }
      if (this.highest === null || (force && message.offset > this.highest)) this.highest = message.offset;
      while (this.messages.has(this.highest + 1)) this.highest += 1;
      if (!shown) continue;
      added += 1;
      ownAdded ||= own;
      if (message.sender && !own && this.members.members.get(message.sender.id)?.typing) {
        this.members.setTyping(message.sender, false);
      }
      if (fresh && !own && message.kind !== "system" && document.visibilityState === "hidden") {
        this.unread += 1;
      }
    }
    this.messages.setAtStart(!this.hasMore);
    if (added === 0) return;
    if (wasAtBottom || ownAdded) this.scrollToBottom();
    else this.layout.showJump(true);
    this.updateTitle();
    this.scheduleRead();
  }

  // Sending.

  send(text) {
    const cid = newCid();
    const payload = { room: this.room, text, cid };
    this.myCids.add(cid);
    this.payloads.set(cid, payload);
    this.typing.stop();
    this.messages.addPending({ cid, text, ts: Date.now() });
    this.scrollToBottom();
    this.outbox.add(payload);
  }

  resend(cid) {
    const payload = this.payloads.get(cid);
    if (payload) this.outbox.add(payload);
  }

  // Reading.

  visibilityChanged() {
    const hidden = document.visibilityState === "hidden";
    this.connection.notify("state", { state: hidden ? "away" : "online" });
    if (!hidden) {
      this.unread = 0;
      this.updateTitle();
      this.scheduleRead();
    }
  }

  /** Tell the server how far we have read, while the page is visible. */
  scheduleRead() {
    if (document.visibilityState === "hidden" || this.readTimer !== null) return;
    this.readTimer = setTimeout(() => {
      this.readTimer = null;
      const offset = this.messages.highest;
      if (!this.joined || document.visibilityState === "hidden" || offset === null || offset <= this.readSent) return;
      this.readSent = offset;
      this.connection.notify("read", { room: this.room, offset });
    }, 500);
  }

  // Scrolling.

  scrollToBottom() {
    this.messages.scrollToBottom();
    this.stickToBottom = true;
    this.layout.showJump(false);
  }

  /** Load older pages until the list overflows the screen (or the room's start is reached). */
  fillScreen() {
    requestAnimationFrame(() => {
      if (this.hasMore && !this.messages.overflows) this.loadOlder();
    });
  }

  async loadOlder() {
    if (this.loadingHistory || !this.hasMore || !this.joined) return;
    const before = this.messages.lowest;
    if (before === null) return;
    this.loadingHistory = true;
    this.messages.setLoading(true);
    let loaded = false;
    try {
      const ack = await this.connection.request("history", { room: this.room, before, limit: HISTORY_PAGE });
      if (ack.ok) {
        const older = validMessages(ack.messages).filter((message) => message.offset < before);
        this.messages.keepPosition(() => {
          for (const message of older) this.messages.add(message);
          this.hasMore = ack.more === true && older.length > 0;
          this.messages.setAtStart(!this.hasMore);
        });
        loaded = true;
      }
    } catch {
      // No answer: the next scroll to the top asks again.
    } finally {
      this.loadingHistory = false;
      this.messages.setLoading(false);
    }
    if (loaded) this.fillScreen();
  }
}

/** Messages from an answer: only those with an integer offset, oldest first. */
function validMessages(messages) {
  if (!Array.isArray(messages)) return [];
  return messages
    .filter((message) => message && Number.isInteger(message.offset))
    .sort((a, b) => a.offset - b.offset);
}
