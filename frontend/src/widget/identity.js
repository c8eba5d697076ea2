// Who the tester is and which room the widget chats in, from (in this order) a signed link
// in the address, a ?name= in it, or what an earlier page of this tab remembered.
//
// A signed link's token is `base64url(JSON {room, name, exp}) "." signature`: the widget
// reads the room and name from the first part to show them at once; only the server can
// tell whether the token is genuine, and it says so when connecting.

import { nameError, normalizeName, roomError } from "../validate.js";

/** The claims of a token, or null when its first part is not readable JSON. */
export function tokenClaims(token) {
  const [part] = String(token).split(".");
  try {
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4)), (c) =>
      c.charCodeAt(0),
    );
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

/**
 * `{token, name, room}` for this page: `token` and `name` may be null (then the panel asks
 * for a name), `room` is null only when nothing names one.
 * `params` are the page's query parameters, `saved` what session.js kept, `scriptRoom`
 * the script's data-room.
 */
export function resolveIdentity(params, saved, scriptRoom) {
  let token = params.get("token") || null;
  let name = null;
  if (!token) {
    const asked = normalizeName(params.get("name") ?? "");
    if (asked && !nameError(asked)) name = asked;
    else if (saved.token) token = saved.token;
    else if (typeof saved.name === "string" && !nameError(saved.name)) name = saved.name;
  }
  const claims = token ? tokenClaims(token) : null;
  const candidates = [claims?.room, scriptRoom, params.get("room"), saved.room];
  const room = candidates.find((value) => typeof value === "string" && !roomError(value)) ?? null;
  const shownName = claims && typeof claims.name === "string" ? claims.name : name;
  return { token, name, room, shownName };
}
