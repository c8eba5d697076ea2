// The widget's events, told three ways: to listeners of window.Roomcast.on(type, fn), and
// as {source: "roomcast", type, ...} messages posted to this window and to a framing page.

export class Emitter {
  constructor() {
    this.listeners = new Map(); // type -> Set of functions
  }

  /** Call `listener(detail)` on each `type` event; returns a function that stops it. */
  on(type, listener) {
    if (typeof listener !== "function") throw new TypeError("Roomcast.on(type, fn): fn must be a function");
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(listener);
    return () => this.listeners.get(type)?.delete(listener);
  }

  emit(type, detail) {
    for (const listener of this.listeners.get(type) ?? []) {
      try {
        listener(detail);
      } catch (error) {
        // A page's listener must not break the chat; its error still shows in the console.
        setTimeout(() => {
          throw error;
        });
      }
    }
  }
}

/** The origin to post to: the page's own, or "*" for pages without one (file:, sandboxed). */
function ownOrigin() {
  return window.location.origin && window.location.origin !== "null" ? window.location.origin : null;
}

/**
 * Post `{source: "roomcast", type, ...fields}` to this window and, when framed, to the parent:
 * the parent gets it only if its origin is this page's or `parentOrigin` (data-parent-origin),
 * so a foreign page that frames the prototype cannot read the conversation.
 */
export function post(type, fields, parentOrigin) {
  const data = { source: "roomcast", type, ...fields };
  const own = ownOrigin();
  if (own) window.postMessage(data, own);
  if (window.parent !== window) {
    for (const origin of new Set([own, parentOrigin].filter(Boolean))) {
      try {
        window.parent.postMessage(data, origin);
      } catch {
        // An origin that is not a valid URL: nothing to post to.
      }
    }
  }
}

/**
 * Call `handle({command, step, data})` for each `{roomcast: "open"|"close"|"track", ...}`
 * message from this page's origin (this window, its frames, its parent) or `parentOrigin`.
 */
export function listen(handle, parentOrigin) {
  const allowed = new Set([ownOrigin(), parentOrigin].filter(Boolean));
  window.addEventListener("message", (event) => {
    const data = event.data;
    if (!data || typeof data !== "object" || typeof data.roomcast !== "string") return;
    if (!allowed.has(event.origin)) return;
    handle({ command: data.roomcast, step: data.step, data: data.data });
  });
}
