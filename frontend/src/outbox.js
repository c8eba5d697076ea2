// The send queue: messages leave in the order they were typed, one at a time, only while the
// room is joined, and are retried with the same cid after a time-out or a reconnect (the server
// turns a repeated cid into the message it already has, never a second one).

const RETRY_PAUSE_MS = 1000;

export class Outbox {
  /**
   * transmit(payload) -> Promise of the ack body (rejects when there was no answer);
   * canSend() -> whether the room is joined on a live connection;
   * onSent(cid, message) / onFailed(cid, error) report the outcome of each entry.
   */
  constructor({ transmit, canSend, onSent, onFailed }) {
    this.transmit = transmit;
    this.canSend = canSend;
    this.onSent = onSent;
    this.onFailed = onFailed;
    this.queue = []; // [{cid, payload}], oldest first
    this.running = false;
  }

  has(cid) {
    return this.queue.some((entry) => entry.cid === cid);
  }

  /** Queue a payload ({room, text, cid}) and try to send it. */
  add(payload) {
    this.queue.push({ cid: payload.cid, payload });
    this.flush();
  }

  /** The message with this cid arrived by broadcast: it no longer needs sending. */
  settle(cid) {
    this.queue = this.queue.filter((entry) => entry.cid !== cid);
  }

  /** Send what is queued, in order, while possible. Safe to call at any time. */
  async flush() {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0 && this.canSend()) {
        const entry = this.queue[0];
        let ack;
        try {
          ack = await this.transmit(entry.payload);
        } catch {
          // No answer: keep the entry first in line and try again with the same cid, now if
          // still connected (after a short pause), else after the next join.
          if (this.canSend()) await pause(RETRY_PAUSE_MS);
          continue;
        }
        if (this.queue[0] !== entry) continue; // settled by its broadcast meanwhile
        this.queue.shift();
        if (ack.ok && ack.message) this.onSent(entry.cid, ack.message);
        else this.onFailed(entry.cid, errorOf(ack));
      }
    } finally {
      this.running = false;
    }
  }
}

function errorOf(ack) {
  const error = ack && typeof ack.error === "object" && ack.error ? ack.error : {};
  return {
    code: String(error.code ?? "unknown"),
    message: String(error.message ?? "The message was not accepted."),
  };
}

function pause(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
