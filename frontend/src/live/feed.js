// Following rooms without appearing in them: one Socket.IO connection, a watch-join per room,
// every message handed on once and in order, the room's last messages on (re)join.

import { io } from "socket.io-client";
import { TRANSPORTS } from "../transports.js";

export class Feed {
  /** `server` is the Roomcast origin, e.g. "http://host:8000". */
  constructor(server, name = "live") {
    this.server = server;
    this.rooms = new Map(); // room -> {offset, listeners: Set}
    this.socket = io(server, { ...TRANSPORTS, auth: { name }, path: "/socket.io/" });
    this.socket.on("connect", () => {
      // After Socket.IO's own recovery the server has replayed what we missed.
      if (!this.socket.recovered) for (const room of this.rooms.keys()) this.join(room);
    });
    this.socket.on("message", (message) => this.deliver(message));
    this.socket.on("connect_error", (err) => {
      if (this.socket.active) return; // a transport failure: socket.io-client retries
      const data = (err && err.data) || {};
      console.error(`Roomcast live: ${server} refused the connection: ${data.message || err}`);
    });
    this.warned = false;
    this.socket.io.on("reconnect_attempt", (attempt) => {
      if (attempt === 3 && !this.warned) {
        this.warned = true;
        console.warn(
          `Roomcast live: cannot reach ${server}. If this page is on another origin, start ` +
            `Roomcast with --origins ${location.origin}`,
        );
      }
    });
  }

  /** Call `listener(message)` for each message of `room`, the latest ones first. */
  follow(room, listener) {
    let state = this.rooms.get(room);
    if (!state) {
      state = { offset: null, listeners: new Set(), backlog: [] };
      this.rooms.set(room, state);
      if (this.socket.connected) this.join(room);
    } else {
      for (const message of state.backlog) listener(message); // a late binding catches up
    }
    state.listeners.add(listener);
  }

  join(room) {
    const state = this.rooms.get(room);
    const request = { room, watch: true };
    if (state.offset !== null) request.since = state.offset;
    this.socket.emit("join", request, (answer) => {
      if (!answer || !answer.ok) {
        const error = (answer && answer.error) || {};
        console.error(`Roomcast live: cannot follow room ${room}: ${error.message || "no answer"}`);
        return;
      }
      for (const message of answer.messages) this.deliver(message);
    });
  }

  deliver(message) {
    const state = message && this.rooms.get(message.room);
    if (!state || (state.offset !== null && message.offset <= state.offset)) return;
    state.offset = message.offset;
    state.backlog.push(message);
    if (state.backlog.length > 200) state.backlog.shift();
    for (const listener of state.listeners) listener(message);
  }
}
