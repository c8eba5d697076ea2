// Checks on what people type before it goes to the server, each with a message saying what is wrong.

export const ROOM_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const MAX_NAME_LENGTH = 64;

/** Why `room` is not a valid room name, or null when it is. */
export function roomError(room) {
  if (!room) return "Enter a room name.";
  if (room.length > 64) return `Room names are at most 64 characters (this one has ${room.length}).`;
  if (!ROOM_PATTERN.test(room)) {
    const bad = [...new Set(room.replace(/[A-Za-z0-9._-]/g, ""))].map(describe).join(", ");
    return `Room names may only use letters, digits, dots, dashes and underscores (not ${bad}).`;
  }
  // "/r/." and "/r/.." are rewritten by every browser's URL parser, so no link can reach them.
  if (room === "." || room === "..") return "A room name needs at least one letter or digit.";
  return null;
}

/** A display name as the server keeps it: runs of white space become one space. */
export function normalizeName(name) {
  return String(name).split(/\s+/).filter(Boolean).join(" ");
}

/** Why `name` (already normalised) is not a usable display name, or null when it is. */
export function nameError(name) {
  if (!name) return "Enter your name.";
  if (name.length > MAX_NAME_LENGTH) return `Names are at most ${MAX_NAME_LENGTH} characters.`;
  return null;
}

function describe(char) {
  if (char === " ") return "spaces";
  return `“${char}”`;
}
