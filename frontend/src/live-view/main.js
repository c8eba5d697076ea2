// The ready live view at /live/<room>: last value, last messages, a chart of every numeric
// field, and the picture the data names. Built from the same pieces as live.js.

import { TimeChart } from "../live/chart.js";
import { Feed } from "../live/feed.js";
import { formatValue, safeImageUrl } from "../live/paths.js";
import { imageIn, numericFields } from "./fields.js";

const KEEP_MESSAGES = 20;
const room = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");

function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

function card(title) {
  const section = el("section", "card");
  section.append(el("h2", "card-title", title));
  return section;
}

const app = document.getElementById("live");
const header = el("header", "bar");
const title = el("h1", "title", room);
const status = el("span", "status", "connecting…");
status.dataset.state = "connecting";
header.append(title, status);

const valueCard = card("Last value");
const value = el("pre", "value", "Nothing published yet.");
value.id = "last-value";
const updated = el("p", "muted", "");
valueCard.append(value, updated);

const imageCard = card("Picture");
const image = el("img", "picture");
image.alt = `the picture ${room} names`;
imageCard.append(image);
imageCard.hidden = true;

const chartCard = card("Numbers over time");
const charts = el("div", "charts");
chartCard.append(charts);
chartCard.hidden = true;

const listCard = card(`Last ${KEEP_MESSAGES} messages`);
const list = el("ol", "messages");
list.id = "messages";
listCard.append(list);

const grid = el("main", "grid");
grid.append(valueCard, imageCard, chartCard, listCard);
app.append(header, grid);
document.title = `${room} · Roomcast live`;

const chartsByField = new Map();

function chartFor(field) {
  let chart = chartsByField.get(field);
  if (!chart) {
    const holder = el("figure", "chart");
    holder.append(el("figcaption", "chart-label", field));
    const plot = el("div", "chart-plot");
    plot.dataset.field = field;
    holder.append(plot);
    charts.append(holder);
    chartCard.hidden = false;
    chart = new TimeChart(plot, [field], 200);
    chartsByField.set(field, chart);
  }
  return chart;
}

function show(message) {
  if (message.kind === "system") return;
  const shown = message.kind === "text" ? message.text : message.data;
  value.textContent =
    typeof shown === "string" ? shown : JSON.stringify(shown, null, 2) ?? String(shown);
  const when = new Date(message.ts);
  updated.textContent = `#${message.offset} · ${when.toLocaleString()}${
    message.sender ? ` · ${message.sender.name}` : ""
  }`;

  const row = el("li", "message");
  row.append(
    el("time", "muted", when.toLocaleTimeString()),
    el("code", "payload", formatValue(shown)),
  );
  list.prepend(row);
  while (list.children.length > KEEP_MESSAGES) list.lastElementChild.remove();

  if (message.kind === "data") {
    for (const [field, number] of numericFields(message.data)) {
      chartFor(field).add(message.ts, [number]);
    }
    const url = safeImageUrl(imageIn(message.data), location.origin);
    if (url) {
      image.src = url;
      imageCard.hidden = false;
    }
  }
}

const feed = new Feed(location.origin, "live view");
feed.follow(room, show);
const setStatus = (state, text) => {
  status.dataset.state = state;
  status.textContent = text;
};
feed.socket.on("connect", () => setStatus("connected", "live"));
feed.socket.on("disconnect", () => setStatus("connecting", "reconnecting…"));
window.roomcastLive = { feed, charts: chartsByField };
