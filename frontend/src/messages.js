// The message list: one bubble per message, kept in offset order, with pending (not yet
// acknowledged) bubbles after the confirmed ones. Every user-supplied string goes in as text.

import { h, icon, ICONS } from "./dom.js";
import { linkify } from "./linkify.js";
import { formatClock, formatFull, formatIso } from "./time.js";

const KINDS = new Set(["text", "data", "system"]);
const NEAR_BOTTOM_PX = 48;

export class MessageList {
  /** isOwn(message) tells own messages apart; onRetry(cid) is called by a failed bubble's button. */
  constructor({ isOwn, onRetry }) {
    this.isOwn = isOwn;
    this.onRetry = onRetry;
    this.byOffset = new Map(); // offset -> <li>
    this.pending = new Map(); // cid -> <li>
    this.lowest = null;
    this.highest = null;
    this.readUpTo = -Infinity; // highest offset someone else has read
    this.list = h("ol", { class: "messages", "data-testid": "messages", role: "log", "aria-label": "Messages" });
    this.loader = h("p", { class: "messages__loader", hidden: true }, "Loading earlier messages…");
    this.start = h("p", { class: "messages__start", hidden: true }, "This is the start of the room.");
    this.scroller = h("div", { class: "messages-scroll" }, this.start, this.loader, this.list);
  }

  has(offset) {
    return this.byOffset.has(offset);
  }

  isPending(cid) {
    return typeof cid === "string" && this.pending.has(cid);
  }

  get isEmpty() {
    return this.byOffset.size === 0 && this.pending.size === 0;
  }

  /** Show a confirmed message (ignored when its offset is already shown). Returns whether it was added. */
  add(message) {
    if (!Number.isInteger(message.offset) || this.byOffset.has(message.offset)) return false;
    const li = renderMessage(message, this.isOwn(message));
    this.place(li, message.offset);
    this.markRead(li);
    return true;
  }

  /** Show a message of ours that the server has not acknowledged yet. */
  addPending({ cid, text, ts }) {
    const li = renderMessage({ kind: "text", text, ts, cid }, true, { pending: true });
    this.pending.set(cid, li);
    this.list.append(li);
    regroup(li);
  }

  /** The pending bubble `cid` becomes `message` (its ack or its broadcast came back). */
  confirm(cid, message) {
    const li = this.pending.get(cid);
    if (!li) return this.add(message);
    this.pending.delete(cid);
    const next = li.nextElementSibling;
    li.remove();
    if (next) regroup(next);
    return this.add(message);
  }

  /** The server refused the pending message `cid`: say why and offer to try again. */
  fail(cid, error) {
    const li = this.pending.get(cid);
    if (!li) return;
    const atBottom = this.atBottom;
    li.dataset.failed = "true";
    const status = li.querySelector(".msg__status");
    status?.replaceChildren(icon("alert", ICONS.alert, 14));
    status?.setAttribute("aria-label", "Not sent");
    li.querySelector(".msg__error")?.remove();
    li.append(
      h(
        "div",
        { class: "msg__error", role: "alert", "data-testid": "message-error" },
        h("span", {}, `Not sent: ${error.message}`),
        h("button", { class: "msg__retry", type: "button", onclick: () => this.retry(cid) }, "Retry"),
      ),
    );
    if (atBottom) this.scrollToBottom();
  }

  retry(cid) {
    const li = this.pending.get(cid);
    if (!li) return;
    delete li.dataset.failed;
    li.querySelector(".msg__error")?.remove();
    const status = li.querySelector(".msg__status");
    status?.replaceChildren(icon("clock", ICONS.clock, 14));
    status?.setAttribute("aria-label", "Sending");
    this.onRetry(cid);
  }

  /** Someone else has read up to `offset`: tick our messages up to there. */
  setReadUpTo(offset) {
    if (!(offset > this.readUpTo)) return;
    this.readUpTo = offset;
    for (const li of this.list.querySelectorAll('[data-own="true"]:not([data-pending]):not([data-read])')) {
      this.markRead(li);
    }
  }

  markRead(li) {
    if (li.dataset.own !== "true" || li.dataset.pending) return;
    if (Number(li.dataset.offset) > this.readUpTo) return;
    li.dataset.read = "true";
    const status = li.querySelector(".msg__status");
    status?.replaceChildren(icon("checks", ICONS.checks, 16));
    status?.setAttribute("aria-label", "Read");
  }

  setLoading(loading) {
    this.loader.hidden = !loading;
  }

  /** Say that there is nothing older to load (or nothing at all yet). */
  setAtStart(atStart) {
    this.start.hidden = !atStart;
    this.start.textContent = this.isEmpty ? "No messages yet. Say hello!" : "This is the start of the room.";
  }

  // Scrolling.

  get atBottom() {
    const el = this.scroller;
    return el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
  }

  get atTop() {
    return this.scroller.scrollTop < NEAR_BOTTOM_PX;
  }

  get overflows() {
    return this.scroller.scrollHeight > this.scroller.clientHeight + 1;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /** Run `change` (which adds above the view) without moving what the reader is looking at. */
  keepPosition(change) {
    const el = this.scroller;
    const fromBottom = el.scrollHeight - el.scrollTop;
    change();
    el.scrollTop = el.scrollHeight - fromBottom;
  }

  // Placement in offset order: confirmed bubbles ascending, then pending ones.

  place(li, offset) {
    this.byOffset.set(offset, li);
    if (this.highest === null || offset > this.highest) {
      this.highest = offset;
      const firstPending = this.pending.values().next().value;
      this.list.insertBefore(li, firstPending && firstPending.parentNode === this.list ? firstPending : null);
    } else if (offset < this.lowest) {
      this.list.insertBefore(li, this.list.firstChild);
    } else {
      let next = null;
      for (const child of this.list.children) {
        if (!child.dataset.pending && Number(child.dataset.offset) > offset) {
          next = child;
          break;
        }
      }
      this.list.insertBefore(li, next);
    }
    if (this.lowest === null || offset < this.lowest) this.lowest = offset;
    regroup(li);
    if (li.nextElementSibling) regroup(li.nextElementSibling);
  }
}

const GROUP_WITHIN_MS = 5 * 60 * 1000;

/**
 * Mark a bubble that follows one from the same sender within a few minutes: it sits closer
 * and does not repeat the name on screen (the name stays in the DOM for screen readers).
 */
function regroup(li) {
  const prev = li.previousElementSibling;
  const continued =
    prev !== null &&
    li.groupKey !== null &&
    prev.groupKey === li.groupKey &&
    Math.abs(li.ts - prev.ts) < GROUP_WITHIN_MS;
  if (continued) li.dataset.continued = "true";
  else delete li.dataset.continued;
}

/** One bubble. `message` follows the wire format; `pending` marks a bubble not yet acknowledged. */
export function renderMessage(message, own, { pending = false } = {}) {
  const kind = KINDS.has(message.kind) ? message.kind : "text";
  const side = kind === "system" ? "system" : own ? "own" : "other";
  const li = h("li", {
    class: `msg msg--${side}`,
    "data-testid": "message",
    "data-offset": pending ? null : message.offset,
    "data-own": String(kind !== "system" && own),
    "data-kind": kind,
    "data-pending": pending ? "true" : null,
    "data-cid": typeof message.cid === "string" ? message.cid : null,
  });

  // For grouping consecutive bubbles (see regroup); kept as properties, not attributes.
  li.groupKey = kind === "system" ? null : own ? "\u0000own" : (message.sender?.id ?? null);
  li.ts = Number(message.ts) || 0;

  if (kind === "system") {
    li.append(
      h(
        "p",
        { class: "msg__system" },
        h("span", { "data-testid": "message-text" }, linkify(String(message.text ?? ""))),
        " ",
        timeElement(message.ts),
      ),
    );
    return li;
  }

  if (side === "other" && message.sender) {
    li.append(h("div", { class: "msg__sender", "data-testid": "message-sender" }, String(message.sender.name ?? "")));
  }
  const hasText = typeof message.text === "string" && message.text !== "";
  const hasData = message.data !== undefined && message.data !== null;
  const bubble = h(
    "div",
    { class: "msg__bubble" },
    hasText || !hasData ? h("p", { class: "msg__text", "data-testid": "message-text" }, linkify(String(message.text ?? ""))) : null,
    hasData ? h("pre", { class: "msg__data", "data-testid": hasText ? "message-data" : "message-text" }, compactJson(message.data)) : null,
    h("span", { class: "msg__meta" }, timeElement(message.ts), own ? statusElement(pending) : null),
  );
  li.append(bubble);
  return li;
}

function timeElement(ts) {
  return h(
    "time",
    { class: "msg__time", "data-testid": "message-time", datetime: formatIso(ts) || null, title: formatFull(ts) || null },
    formatClock(ts),
  );
}

function statusElement(pending) {
  return h(
    "span",
    { class: "msg__status", role: "img", "aria-label": pending ? "Sending" : "Sent" },
    pending ? icon("clock", ICONS.clock, 14) : icon("check", ICONS.check, 16),
  );
}

function compactJson(data) {
  try {
    return JSON.stringify(data);
  } catch {
    return String(data);
  }
}
