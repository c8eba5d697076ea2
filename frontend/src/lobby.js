// The two small forms: the lobby at "/" (name + room) and the name prompt at "/r/<room>".

import { h } from "./dom.js";
import { loadName, saveName } from "./prefs.js";
import { nameError, normalizeName, roomError } from "./validate.js";

/** The address of a room, with the name to join as. */
export function roomUrl(room, name) {
  return `/r/${encodeURIComponent(room)}?name=${encodeURIComponent(name)}`;
}

/** "/": pick a name and a room, then go to the room's address. */
export function renderLobby(root, { room = "", error = null } = {}) {
  document.title = "Roomcast";
  const name = field({
    id: "lobby-name",
    label: "Your name",
    value: loadName(),
    autocomplete: "nickname",
    placeholder: "e.g. Ada",
  });
  const roomField = field({
    id: "lobby-room",
    label: "Room",
    value: room,
    autocomplete: "off",
    placeholder: "e.g. sales",
    hint: "Letters, digits, dots, dashes and underscores.",
    autocapitalize: "none",
  });
  const form = h(
    "form",
    { class: "card__form", novalidate: true, "aria-label": "Join a room" },
    name.wrapper,
    roomField.wrapper,
    h("button", { class: "button button--primary", type: "submit", "data-testid": "lobby-join" }, "Join"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const nameValue = normalizeName(name.input.value);
    const roomValue = roomField.input.value.trim();
    const nameProblem = name.check(nameError(nameValue));
    const roomProblem = roomField.check(roomError(roomValue));
    if (nameProblem || roomProblem) {
      (nameProblem ? name : roomField).input.focus();
      return;
    }
    saveName(nameValue);
    window.location.assign(roomUrl(roomValue, nameValue));
  });
  root.replaceChildren(
    card(
      h("h1", { class: "card__brand" }, "Roomcast"),
      h("p", { class: "card__lead" }, "Pick a name and a room to chat in."),
      form,
    ),
  );
  if (error) roomField.check(error);
  (name.input.value ? roomField : name).input.focus();
}

/** "/r/<room>" without a name: ask for one, then call `onJoin(name)`. */
export function renderNameForm(root, { room, name = "", error = null, onJoin }) {
  document.title = `${room} — Roomcast`;
  const nameField = field({
    id: "name-input",
    label: "Your name",
    value: name || loadName(),
    autocomplete: "nickname",
    placeholder: "e.g. Ada",
  });
  const form = h(
    "form",
    { class: "card__form", novalidate: true, "aria-label": `Join ${room}` },
    nameField.wrapper,
    h("button", { class: "button button--primary", type: "submit", "data-testid": "name-submit" }, "Join"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = normalizeName(nameField.input.value);
    if (nameField.check(nameError(value))) {
      nameField.input.focus();
      return;
    }
    saveName(value);
    onJoin(value);
  });
  root.replaceChildren(
    card(
      h("p", { class: "card__eyebrow" }, "Joining room"),
      h("h1", { class: "card__title" }, room),
      form,
      h("a", { class: "card__link", href: "/" }, "Choose another room"),
    ),
  );
  if (error) nameField.check(error);
  nameField.input.focus();
}

function card(...children) {
  return h("main", { class: "page page--centered" }, h("section", { class: "card" }, children));
}

/** A labelled text input with a hint and an error line; check(message) shows or clears the error. */
function field({ id, label, value, hint, ...attributes }) {
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const input = h("input", {
    id,
    name: id,
    type: "text",
    class: "field__input",
    value,
    spellcheck: "false",
    enterkeyhint: "go",
    "data-testid": id,
    "aria-describedby": [hintId, errorId].filter(Boolean).join(" "),
    ...attributes,
  });
  const error = h("p", { class: "field__error", id: errorId, role: "alert", hidden: true });
  const hintLine = hint ? h("p", { class: "field__hint", id: hintId }, hint) : null;
  const wrapper = h(
    "div",
    { class: "field" },
    h("label", { class: "field__label", for: id }, label),
    input,
    hintLine,
    error,
  );
  input.addEventListener("input", () => check(null));
  function check(message) {
    error.textContent = message ?? "";
    error.hidden = !message;
    if (hintLine) hintLine.hidden = Boolean(message); // the error says it all
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    return message;
  }
  return { wrapper, input, check };
}
