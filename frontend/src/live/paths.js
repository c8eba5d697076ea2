// Where a binding's value comes from: "ticker.n" is field n of the data of room "ticker".
//
// The first dot ends the room name. Rooms whose names hold dots are named on the element
// or an ancestor instead: <div data-live-room="site.news"><span data-live-text="title">.

/** {room, path} of a binding's attribute value, or null when it names no room. */
export function parseBinding(value, element) {
  const spec = String(value || "").trim();
  const holder = element.closest("[data-live-room]");
  if (holder) {
    return { room: holder.getAttribute("data-live-room"), path: splitPath(spec) };
  }
  const dot = spec.indexOf(".");
  const room = dot < 0 ? spec : spec.slice(0, dot);
  if (!room) return null;
  return { room, path: dot < 0 ? [] : splitPath(spec.slice(dot + 1)) };
}

function splitPath(spec) {
  return spec ? spec.split(".").filter((part) => part !== "") : [];
}

/**
 * The value a message gives a path: walked into its data (or its text when the path is
 * empty and it is a text message); undefined when the message does not carry it.
 */
export function valueAt(message, path) {
  let value = message.kind === "text" ? message.text : message.data;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = Array.isArray(value) ? value[Number(key)] : Object.hasOwn(value, key) ? value[key] : undefined;
  }
  return value;
}

/** A value as text: numbers with `digits` decimals when given, objects as JSON. */
export function formatValue(value, digits) {
  if (typeof value === "number" && digits !== null && digits !== undefined && digits !== "") {
    const places = Math.min(Math.max(Number(digits) || 0, 0), 20);
    return value.toFixed(places);
  }
  if (value === null || typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** A URL safe to show as an image: http(s) or a data: image; relative ones are the server's. */
export function safeImageUrl(value, base) {
  if (typeof value !== "string" || value === "") return null;
  if (/^data:image\/(png|gif|jpeg|webp|svg\+xml)[;,]/i.test(value)) return value;
  try {
    const url = new URL(value, base);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** A value as a CSS class token: letters, digits, - and _ only; null when nothing is left. */
export function classToken(value) {
  const token = String(value ?? "").trim().replace(/[^A-Za-z0-9_-]+/g, "-").slice(0, 64);
  return token && token !== "-" ? token : null;
}
