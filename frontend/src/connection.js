// The Socket.IO connection: status for the UI, acked requests with time-outs, and reconnects.
//
// socket.io-client reconnects by itself after a network cut. Two cases it leaves alone are
// handled here: the server closing the session ("io server disconnect") and a refusal with a
// transient code (unavailable, rate_limited); both are retried with a growing delay.

import { io } from "socket.io-client";
import { TRANSPORTS } from "./transports.js";

/** An error answer or a missing answer (code "timeout" / "disconnected") to a request. */
export class RequestError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "RequestError";
    this.code = code;
  }
}

const TRANSIENT_REFUSALS = new Set(["unavailable", "rate_limited"]);

export class Connection {
  /**
   * `auth` is sent with every (re)connect: `{name}` or `{token}`. `server` is the Roomcast
   * origin when the page comes from elsewhere (the chat widget); the page's own by default.
   */
  constructor(auth, server = null) {
    const options = { ...TRANSPORTS, auth };
    this.socket = server ? io(server, options) : io(options);
    // A hook for browser tests, e.g. window.roomcast.socket.io.engine.close() cuts the network.
    // Only on our own pages: the widget leaves the globals of the page it is on alone.
    if (!server) window.roomcast = { socket: this.socket };
    this.status = "connecting"; // connecting | connected | reconnecting | refused
    this.error = null; // {code, message} of a refusal
    this.retryDelay = 1000;
    this.retryTimer = null;
    this.listeners = new Set();

    this.socket.on("connect", () => {
      this.retryDelay = 1000;
      this.set("connected", null);
    });
    this.socket.on("disconnect", (reason) => {
      if (this.socket.active) this.set("reconnecting", null);
      else if (reason === "io server disconnect") this.retry(null);
      // "io client disconnect" is ours (the page is going away): nothing to show.
    });
    this.socket.on("connect_error", (err) => {
      if (this.socket.active) {
        // The transport failed (server down, network cut): socket.io-client retries by itself.
        this.set("reconnecting", null);
        return;
      }
      // The server refused us; err.data is {code, message}.
      const data = err && typeof err.data === "object" && err.data ? err.data : {};
      const refusal = {
        code: String(data.code ?? "refused"),
        message: String(data.message ?? err?.message ?? "The server refused the connection."),
      };
      if (TRANSIENT_REFUSALS.has(refusal.code)) this.retry(refusal);
      else this.set("refused", refusal);
    });
  }

  get connected() {
    return this.socket.connected;
  }

  /** Call `listener(status, error)` now and on every change; returns an unsubscribe function. */
  subscribe(listener) {
    this.listeners.add(listener);
    listener(this.status, this.error);
    return () => this.listeners.delete(listener);
  }

  /**
   * Emit `event` and resolve with the server's ack body, whatever its `ok`.
   * Rejects with RequestError "disconnected" when not connected or cut off before the answer,
   * and "timeout" when no answer came within `timeoutMs`.
   */
  request(event, payload, timeoutMs = 8000) {
    return new Promise((resolve, reject) => {
      if (!this.socket.connected) {
        reject(new RequestError("disconnected", "Not connected."));
        return;
      }
      let settled = false;
      const onDisconnect = () => finish(() => reject(new RequestError("disconnected", "Connection lost.")));
      const finish = (action) => {
        if (settled) return;
        settled = true;
        this.socket.off("disconnect", onDisconnect);
        action();
      };
      this.socket.on("disconnect", onDisconnect);
      this.socket.timeout(timeoutMs).emit(event, payload, (err, ack) => {
        if (err) {
          finish(() => reject(new RequestError("timeout", `No answer to ${event}.`)));
        } else if (!ack || typeof ack !== "object") {
          finish(() => reject(new RequestError("bad_response", `Unexpected answer to ${event}.`)));
        } else {
          finish(() => resolve(ack));
        }
      });
    });
  }

  /** Emit without waiting for the answer (typing, state, read); dropped while disconnected. */
  notify(event, payload) {
    if (!this.socket.connected) return;
    this.socket.timeout(8000).emit(event, payload, () => {});
  }

  set(status, error) {
    this.status = status;
    this.error = error;
    for (const listener of this.listeners) listener(status, error);
  }

  retry(refusal) {
    this.set("reconnecting", refusal);
    clearTimeout(this.retryTimer);
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, 30000);
    this.retryTimer = setTimeout(() => this.socket.connect(), delay * (0.75 + Math.random() / 2));
  }
}
