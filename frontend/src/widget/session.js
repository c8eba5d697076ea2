// What the widget keeps for the browser tab, so that the conversation follows the tester
// from page to page of the prototype: who they are, which room, and whether the panel was
// open. sessionStorage ends with the tab, so the next tester on the same lab machine
// starts afresh. Storage can be missing or throw (blocked, private modes): then nothing
// is kept and each page starts from its own address.

const KEY = "roomcast.widget";

/** The saved state: `{token?, name?, room?, open?}`. */
export function loadSession() {
  try {
    const saved = JSON.parse(window.sessionStorage.getItem(KEY) ?? "{}");
    return saved && typeof saved === "object" ? saved : {};
  } catch {
    return {};
  }
}

/** Merge `changes` into the saved state (a key set to null is removed). */
export function saveSession(changes) {
  const next = { ...loadSession(), ...changes };
  for (const [key, value] of Object.entries(next)) if (value === null) delete next[key];
  try {
    window.sessionStorage.setItem(KEY, JSON.stringify(next));
  } catch {
    // Storage is unavailable: this page still works, the next one asks again.
  }
  return next;
}
