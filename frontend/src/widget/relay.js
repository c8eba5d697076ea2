// A prototype page inside a frame of a page that has the widget already (tool players such
// as Axure's show each page in an iframe): one chat button is enough. Here window.Roomcast
// passes open, close and track to the framing page's widget by postMessage, and hears its
// events the same way.

import { Emitter } from "./events.js";

/** Whether this page is framed by a page of the same origin that loads the widget. */
export function framedByWidget() {
  if (window.parent === window) return false;
  try {
    const doc = window.parent.document; // throws for a parent of another origin
    return Boolean(window.parent.Roomcast || doc.querySelector('script[src$="/widget.js"]'));
  } catch {
    return false;
  }
}

/** window.Roomcast for a framed page: the same API, carried out by the parent's widget. */
export function relayApi(server) {
  const events = new Emitter();
  const origin = window.location.origin;
  const tell = (message) => window.parent.postMessage(message, origin);
  window.addEventListener("message", (event) => {
    const data = event.data;
    if (event.source !== window.parent || event.origin !== origin) return;
    if (data && data.source === "roomcast" && typeof data.type === "string") {
      events.emit(data.type, data.type === "message" ? data.message : {});
    }
  });
  return {
    open: () => tell({ roomcast: "open" }),
    close: () => tell({ roomcast: "close" }),
    on: (type, listener) => events.on(type, listener),
    track: (step, data) => tell({ roomcast: "track", step: String(step), data }),
    server,
    relay: true,
  };
}
