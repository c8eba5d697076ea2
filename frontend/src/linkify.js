// Turning http(s) URLs in message text into links, with DOM APIs only.
//
// The text between links goes in as text nodes, and only URLs whose protocol is http: or https:
// become <a> elements: "javascript:" and friends stay plain text.

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?'"*_~]+$/;
const CLOSERS = { ")": "(", "]": "[", "}": "{" };

/** A DocumentFragment holding `text` with its http(s) URLs as links. */
export function linkify(text) {
  const fragment = document.createDocumentFragment();
  let done = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const raw = trimUrl(match[0]);
    const href = safeHref(raw);
    if (!href) continue;
    if (match.index > done) fragment.append(document.createTextNode(text.slice(done, match.index)));
    const link = document.createElement("a");
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.textContent = raw;
    fragment.append(link);
    done = match.index + raw.length;
  }
  if (done < text.length) fragment.append(document.createTextNode(text.slice(done)));
  return fragment;
}

/** Drop the sentence punctuation and unbalanced closing brackets that end a URL in prose. */
export function trimUrl(url) {
  let result = url;
  for (;;) {
    const before = result;
    result = result.replace(TRAILING_PUNCTUATION, "");
    const last = result.at(-1);
    if (last in CLOSERS && count(result, last) > count(result, CLOSERS[last])) {
      result = result.slice(0, -1);
    }
    if (result === before) return result;
  }
}

/** The normalised URL when it is a real http(s) URL with a host, else null. */
export function safeHref(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname) return null;
  return url.href;
}

function count(text, char) {
  return text.split(char).length - 1;
}
