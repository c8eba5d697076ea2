// What the live view finds in a message's data: its numeric fields and an image, if any.

const IMAGE_KEY = /(^|[._-])(image|img|picture|photo|icon)($|[._-])/i;
const IMAGE_URL = /\.(png|jpe?g|gif|svg|webp)([?#]|$)/i;

/** [path, number] for every finite number in `data`, objects walked to `depth` levels. */
export function numericFields(data, prefix = "", depth = 3) {
  if (typeof data === "number" && Number.isFinite(data)) return [[prefix || "value", data]];
  if (data === null || typeof data !== "object" || Array.isArray(data) || depth === 0) return [];
  const found = [];
  for (const [key, value] of Object.entries(data)) {
    found.push(...numericFields(value, prefix ? `${prefix}.${key}` : key, depth - 1));
  }
  return found.slice(0, 12);
}

/** The first string in `data` that names an image, by its key or its URL; else null. */
export function imageIn(data, key = "", depth = 3) {
  if (typeof data === "string") {
    if (/^data:image\//i.test(data) || IMAGE_URL.test(data) || (key && IMAGE_KEY.test(key))) {
      return data;
    }
    return null;
  }
  if (data === null || typeof data !== "object" || depth === 0) return null;
  for (const [name, value] of Object.entries(data)) {
    const found = imageIn(value, name, depth - 1);
    if (found) return found;
  }
  return null;
}
