// The data-live-* attributes: each element shows a value of a room's messages, kept current.
//
//   data-live-text="ticker.n"     the value as text (data-live-digits="2" rounds numbers)
//   data-live-src="cloud.image"   an image's URL (http(s), data:image, or the server's path)
//   data-live-list="ticker.n"     a list item per message, newest first; data-live-keep="10"
//   data-live-class="cloud.state" the value as a class on the element (the previous one goes)
//   data-live-chart="ticker.n"    a time-series chart; data-live-keep points (default 100)

import { TimeChart } from "./chart.js";
import { classToken, formatValue, parseBinding, safeImageUrl, valueAt } from "./paths.js";

export const KINDS = ["text", "src", "list", "class", "chart"];
export const SELECTOR = KINDS.map((kind) => `[data-live-${kind}]`).join(",");

function keepOf(element, fallback) {
  const keep = Number(element.getAttribute("data-live-keep"));
  return Number.isInteger(keep) && keep > 0 ? Math.min(keep, 10000) : fallback;
}

const APPLY = {
  text(element, value) {
    element.textContent = formatValue(value, element.getAttribute("data-live-digits"));
  },
  src(element, value, context) {
    const url = safeImageUrl(value, context.server);
    if (url) element.setAttribute("src", url);
  },
  list(element, value, context, message) {
    const item = document.createElement("li");
    item.textContent = formatValue(value, element.getAttribute("data-live-digits"));
    item.dataset.offset = String(message.offset);
    if (element.getAttribute("data-live-order") === "oldest-first") element.append(item);
    else element.prepend(item);
    const keep = keepOf(element, 50);
    const items = element.querySelectorAll(":scope > li[data-offset]");
    const oldestFirst = element.getAttribute("data-live-order") === "oldest-first";
    for (let i = 0; i < items.length - keep; i += 1) {
      items[oldestFirst ? i : items.length - 1 - i].remove();
    }
  },
  class(element, value, context, message, binding) {
    const token = classToken(value);
    if (binding.token) element.classList.remove(binding.token);
    binding.token = token;
    if (token) element.classList.add(token);
  },
  chart(element, value, context, message, binding) {
    if (typeof value !== "number" || !Number.isFinite(value)) return;
    if (!binding.chart) {
      context.styleCharts();
      binding.chart = new TimeChart(element, [binding.label], keepOf(element, 100));
    }
    binding.chart.add(message.ts, [value]);
  },
};

/** The bindings of one element: [{kind, room, path, ...}] */
export function bindingsOf(element) {
  const found = [];
  for (const kind of KINDS) {
    const spec = element.getAttribute(`data-live-${kind}`);
    if (spec === null) continue;
    const target = parseBinding(spec, element);
    if (target) found.push({ kind, ...target, label: spec });
  }
  return found;
}

/** Show `message` on `element` through `binding`, if the message carries the value. */
export function applyMessage(element, binding, message, context) {
  if (message.kind === "system") return;
  const value = valueAt(message, binding.path);
  if (value === undefined) return;
  APPLY[binding.kind](element, value, context, message, binding);
  element.setAttribute("data-live-offset", String(message.offset));
}
