// Entry point: picks the page from the address.
//   /                    the lobby
//   /r/<room>?name=Ada   the room, joined as Ada at once
//   /r/<room>            a name prompt first, then the room
//   /r/<room>?token=…    the room, joined with a signed link

import { renderLobby, renderNameForm } from "./lobby.js";
import { openRoom } from "./room.js";
import { saveName } from "./prefs.js";
import { nameError, normalizeName, roomError } from "./validate.js";

const ROOM_PATH = /^\/r\/([^/]+)\/?$/;

function start(root) {
  const match = ROOM_PATH.exec(window.location.pathname);
  if (!match) {
    renderLobby(root);
    return;
  }
  let room = "";
  try {
    room = decodeURIComponent(match[1]);
  } catch {
    room = match[1];
  }
  const problem = roomError(room);
  if (problem) {
    renderLobby(root, { room, error: problem });
    return;
  }

  const params = new URLSearchParams(window.location.search);
  const token = params.get("token") || null;
  const name = normalizeName(params.get("name") ?? "");
  if (token || (name && !nameError(name))) {
    if (name) saveName(name);
    openRoom(root, { room, name, token });
    return;
  }
  renderNameForm(root, {
    room,
    name,
    error: name ? nameError(name) : null,
    onJoin(chosen) {
      // Keep the name in the address so that a reload stays in the room.
      const url = new URL(window.location.href);
      url.searchParams.set("name", chosen);
      window.history.replaceState(null, "", url);
      openRoom(root, { room, name: chosen, token: null });
    },
  });
}

start(document.getElementById("app"));
