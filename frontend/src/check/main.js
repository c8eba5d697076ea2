// The lab check page (/check): a tester opens it before the session to see, in plain words,
// whether this device and network will hold a live chat.
//
// Three checks: the WebSocket connection (the transport a live chat needs), the round-trip
// time, and whether the page keeps its connection while it is in the background.

import { io } from "socket.io-client";

const ROUNDS = 10;
const byId = (id) => document.getElementById(id);

function show(check, state, text) {
  const card = byId(check);
  card.dataset.state = state; // pending | ok | warn | fail
  card.querySelector(".verdict").textContent = text;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function echo(socket) {
  const sent = performance.now();
  return socket.timeout(5000).emitWithAck("echo", {}).then(() => performance.now() - sent);
}

async function measureRoundTrips(socket) {
  const times = [];
  for (let i = 0; i < ROUNDS; i++) times.push(await echo(socket));
  const typical = Math.round(median(times));
  const worst = Math.round(Math.max(...times));
  const words = `${typical} ms typical, ${worst} ms at worst (${ROUNDS} round trips)`;
  if (typical < 150) show("rtt", "ok", `Fast: ${words}.`);
  else if (typical < 500) show("rtt", "warn", `Usable, a little slow: ${words}.`);
  else show("rtt", "fail", `Slow: ${words}. Messages will lag; try another network.`);
}

// While the page is hidden, keep asking the server every second and count the answers.
// Browsers slow timers in background tabs and may cut connections of hidden pages
// (phones especially); both show up here.
function watchBackground(socket) {
  let hiddenAt = null;
  let answered = 0;
  let dropped = false;
  let timer = null;
  socket.on("disconnect", () => {
    if (hiddenAt !== null) dropped = true;
  });
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      hiddenAt = Date.now();
      answered = 0;
      dropped = false;
      timer = setInterval(() => {
        if (socket.connected) echo(socket).then(() => answered++, () => {});
      }, 1000);
      return;
    }
    if (hiddenAt === null) return;
    clearInterval(timer);
    const seconds = Math.round((Date.now() - hiddenAt) / 1000);
    hiddenAt = null;
    if (seconds < 3) return; // too short to tell anything
    if (dropped || !socket.connected) {
      show(
        "background",
        "fail",
        `The connection dropped while the page was hidden for ${seconds} s. ` +
          "Keep the chat page in front during the session (it catches up when it comes back).",
      );
    } else if (answered < seconds / 2) {
      show(
        "background",
        "warn",
        `The connection stayed up for ${seconds} s in the background, but the browser slowed ` +
          `the page down (${answered} of ${seconds} checks ran). Messages arrive when you come back.`,
      );
    } else {
      show(
        "background",
        "ok",
        `The connection stayed up for ${seconds} s in the background (${answered} of ${seconds} checks answered).`,
      );
    }
  });
}

function start() {
  show("websocket", "pending", "Connecting…");
  const socket = io({ auth: { check: true }, transports: ["websocket"], reconnection: true });
  const failTimer = setTimeout(() => {
    if (!socket.connected) {
      show(
        "websocket",
        "fail",
        "No WebSocket connection after 10 s. A proxy or firewall may block it; " +
          "ask the facilitator, or try another network.",
      );
    }
  }, 10_000);
  socket.on("connect", async () => {
    clearTimeout(failTimer);
    show("websocket", "ok", "WebSocket works: this device can hold a live chat.");
    byId("transport").textContent = socket.io.engine.transport.name;
    if (byId("rtt").dataset.state === "pending") {
      try {
        await measureRoundTrips(socket);
      } catch {
        show("rtt", "fail", "The server did not answer in time.");
      }
    }
  });
  socket.on("connect_error", (error) => {
    show("websocket", "fail", `Could not connect: ${error.message}.`);
  });
  watchBackground(socket);
  window.roomcastCheck = { socket };
}

start();
