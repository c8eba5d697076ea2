// Building DOM nodes without ever parsing HTML: strings always become text nodes, so text
// that came from users (names, rooms, messages) can never turn into markup.

/**
 * Create an element.
 *   h("p", { class: "note", "data-testid": "x", onclick: fn }, "text", childNode)
 * Props: `class`, `on<event>` listeners, anything else is set with setAttribute
 * (`true` gives an empty attribute; `null`, `undefined` and `false` are skipped).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  append(el, children);
  return el;
}

/** Same as h() for SVG elements (icons drawn by us, never from user data). */
export function svg(tag, props = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  setProps(el, props);
  append(el, children);
  return el;
}

/** Append children: nodes as they are, anything else as a text node. */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function setProps(el, props) {
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class" && !(el instanceof SVGElement)) {
      el.className = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

/** A small icon from a list of SVG path strings (24x24 grid, stroked). */
export function icon(name, paths, size = 20) {
  return svg(
    "svg",
    {
      class: `icon icon--${name}`,
      viewBox: "0 0 24 24",
      width: size,
      height: size,
      fill: "none",
      stroke: "currentColor",
      "stroke-width": 2,
      "stroke-linecap": "round",
      "stroke-linejoin": "round",
      "aria-hidden": "true",
      focusable: "false",
    },
    paths.map((d) => svg("path", { d })),
  );
}

export const ICONS = {
  back: ["M15 18l-6-6 6-6"],
  send: ["M4 12l16-8-6 16-2.5-6.5z", "M20 4L11.5 13.5"],
  members: [
    "M16 20v-1.5a3.5 3.5 0 0 0-3.5-3.5h-5A3.5 3.5 0 0 0 4 18.5V20",
    "M10 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z",
    "M20 20v-1.5a3.5 3.5 0 0 0-2.5-3.35",
    "M15.5 4.15a3.5 3.5 0 0 1 0 6.7",
  ],
  close: ["M6 6l12 12", "M18 6L6 18"],
  clock: ["M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z", "M12 7v5l3 2"],
  check: ["M5 12.5l4.5 4.5L19 7.5"],
  checks: ["M2 12.5L6.5 17 16 7.5", "M12 16l1 1 9.5-9.5"],
  alert: ["M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z", "M12 8v5", "M12 16.5v.01"],
  down: ["M12 5v14", "M6 13l6 6 6-6"],
};
