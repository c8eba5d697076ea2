// What the console remembers in this browser: the facilitator's name in rooms and the name
// shown while "typing as" someone. localStorage may be missing or throw: then defaults.

const KEYS = { name: "roomcast.console.name", typingAs: "roomcast.console.typingAs" };
const DEFAULTS = { name: "Facilitator", typingAs: "Facilitator" };

export function loadPref(key) {
  try {
    return window.localStorage.getItem(KEYS[key]) || DEFAULTS[key];
  } catch {
    return DEFAULTS[key];
  }
}

export function savePref(key, value) {
  try {
    window.localStorage.setItem(KEYS[key], value);
  } catch {
    // Storage is unavailable: the value lasts as long as the page.
  }
}
