// live.js: <script src="http://host:8000/live.js" defer></script> makes every element with a
// data-live-* attribute follow its room, with no JavaScript of the page's own. Elements added
// later are bound too. window.RoomcastLive.follow(room, fn) gives scripts the raw messages.

import { SELECTOR, applyMessage, bindingsOf } from "./bindings.js";
import { Feed } from "./feed.js";

function serverOrigin() {
  const script = document.currentScript;
  if (script && script.src) return new URL(script.src).origin;
  return location.origin;
}

const server = serverOrigin();
const feed = new Feed(server);
const bound = new WeakSet();
let chartsStyled = false;

const context = {
  server,
  styleCharts() {
    if (chartsStyled) return;
    chartsStyled = true;
    // A stylesheet from the server, not inline CSS: pages with a strict CSP allow it too.
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = `${server}/live.css`;
    document.head.append(link);
  },
};

function bind(element) {
  if (bound.has(element)) return;
  bound.add(element);
  for (const binding of bindingsOf(element)) {
    feed.follow(binding.room, (message) => applyMessage(element, binding, message, context));
  }
}

function scan(root) {
  if (root.nodeType !== Node.ELEMENT_NODE) return;
  if (root.matches(SELECTOR)) bind(root);
  for (const element of root.querySelectorAll(SELECTOR)) bind(element);
}

function start() {
  scan(document.documentElement);
  new MutationObserver((changes) => {
    for (const change of changes) for (const node of change.addedNodes) scan(node);
  }).observe(document.documentElement, { childList: true, subtree: true });
}

window.RoomcastLive = {
  server,
  follow: (room, listener) => feed.follow(room, listener),
  socket: feed.socket,
};

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
