// widget.js: a chat button for any page, and every page of a prototype served with --site.
//
//   <script src="http://host:8000/widget.js" data-room="sales" defer></script>
//
// The script finds its server from its own src. It joins the room of the tester's signed
// link (?token=…), else data-room, else ?room=; the tester is the link's name, else ?name=,
// else the panel asks. window.Roomcast: open(), close(), on(type, fn), track(step, data).
// See docs/howto/usability-lab.md.

import { framedByWidget, relayApi } from "./relay.js";
import { Widget } from "./widget.js";

function scriptOptions() {
  const script = document.currentScript;
  const server = script && script.src ? new URL(script.src, window.location.href).origin : window.location.origin;
  return {
    server,
    room: script?.dataset.room || null,
    parentOrigin: script?.dataset.parentOrigin || null,
  };
}

function install() {
  if (window.Roomcast && window.Roomcast.server) return; // loaded twice: the first one stays
  const options = scriptOptions();
  if (framedByWidget()) {
    window.Roomcast = relayApi(options.server);
    return;
  }
  const widget = new Widget(options);
  window.Roomcast = widget.api();
  // A script in <head> without defer runs before <body> exists.
  if (document.body) widget.start();
  else document.addEventListener("DOMContentLoaded", () => widget.start(), { once: true });
}

install();
