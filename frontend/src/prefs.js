// What the browser remembers between visits: the last name used.
// localStorage can be missing or throw (private modes, blocked storage): then nothing is kept.

const NAME_KEY = "roomcast.name";

export function loadName() {
  try {
    return window.localStorage.getItem(NAME_KEY) ?? "";
  } catch {
    return "";
  }
}

export function saveName(name) {
  try {
    window.localStorage.setItem(NAME_KEY, name);
  } catch {
    // Storage is unavailable: the name is simply not remembered.
  }
}
