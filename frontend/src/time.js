// Message time stamps, shown in the reader's local time.

const pad = (n) => String(n).padStart(2, "0");

function toDate(ts) {
  const date = new Date(ts);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Local "HH:MM" (24-hour) for a time in ms since the epoch; "" when unknown. */
export function formatClock(ts) {
  const date = toDate(ts);
  return date ? `${pad(date.getHours())}:${pad(date.getMinutes())}` : "";
}

/** A full local date and time, for tooltips. */
export function formatFull(ts) {
  const date = toDate(ts);
  return date ? date.toLocaleString() : "";
}

/** ISO 8601 for a <time datetime> attribute. */
export function formatIso(ts) {
  const date = toDate(ts);
  return date ? date.toISOString() : "";
}
