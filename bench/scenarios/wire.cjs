// Shared by the benchmark's load generators: argument parsing and the raw Engine.IO v4 /
// Socket.IO v5 handshake over WebSocket (the `ws` package), so generators stay cheap, and
// "lean" connections (openLean) doing the same over a bare TCP socket for receivers that
// must cost even less.
// Every generator prints START and END around its measured window (the harness samples
// the server's CPU time and RSS at each) and then one JSON line with its results.
const crypto = require("crypto");
const net = require("net");
const WebSocket = require("ws");

function parseArgs(defaults) {
  const argv = process.argv.slice(2);
  const args = { ...defaults };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i].startsWith("--")) args[argv[i].slice(2)] = argv[i + 1];
  }
  for (const [key, value] of Object.entries(defaults)) {
    if (typeof value === "number") args[key] = Number(args[key]);
  }
  return args;
}

function socketUrl(port) {
  return `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`;
}

// Opens one connection to the default namespace (with `auth`, if given) and joins `rooms`
// (each acked with a distinct id); resolves with the socket once every join is acked.
function open(port, rooms, { auth = null, timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(socketUrl(port), { perMessageDeflate: false });
    let stage = 0;
    let pending = rooms.length;
    const timer = setTimeout(() => reject(new Error("connect timeout")), timeoutMs);
    ws.on("error", reject);
    ws.on("message", (data) => {
      const text = data.toString();
      if (text === "2") return ws.send("3");
      if (stage === 0 && text[0] === "0") {
        stage = 1;
        ws.send(auth === null ? "40" : `40${JSON.stringify(auth)}`);
      } else if (stage === 1 && text.startsWith("44")) {
        reject(new Error(`connect refused: ${text}`));
      } else if (stage === 1 && text.startsWith("40")) {
        stage = 2;
        if (pending === 0) return done();
        rooms.forEach((room, i) => ws.send(`42${i}["join",${JSON.stringify(room)}]`));
      } else if (stage === 2 && text.startsWith("43")) {
        pending -= 1;
        if (pending === 0) done();
      }
    });
    function done() {
      stage = 3;
      clearTimeout(timer);
      ws.removeAllListeners("message");
      ws.on("message", (data) => {
        if (data.length === 1 && data.toString() === "2") ws.send("3");
      });
      resolve(ws);
    }
  });
}

// Opens `count` connections, at most `concurrency` handshakes at a time; `roomsFor(i)`
// names the rooms connection i joins.
async function openMany(port, count, roomsFor, concurrency = 50, opener = open) {
  const sockets = new Array(count);
  let next = 0;
  async function worker() {
    while (next < count) {
      const i = next;
      next += 1;
      sockets[i] = await opener(port, roomsFor(i));
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return sockets;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// CPU seconds (user + system) this process used since `start`, a process.cpuUsage() value.
function cpuSeconds(start) {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

// -- Lean connections ------------------------------------------------------------------------
// For generators whose receivers must cost little next to the server: a plain TCP socket
// reading into one buffer shared by every lean connection (reads are handled one at a time,
// synchronously), with a minimal WebSocket frame parser and no per-message allocation;
// little client state per connection beyond the socket itself.
// Same handshake as open(). Engine.IO pings ("2") and WebSocket pings are answered inside;
// `onText(buf, start, end)` sees every other text message, buf only valid during the call.

const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
const HEADER_END = Buffer.from("\r\n\r\n");
const HTTP_101 = Buffer.from("HTTP/1.1 101");

// One masked client frame (FIN set) carrying `payload` (a Buffer).
function clientFrame(opcode, payload) {
  const len = payload.length;
  const head = len < 126 ? 6 : len < 65536 ? 8 : 14;
  const frame = Buffer.allocUnsafe(head + len);
  frame[0] = 0x80 | opcode;
  if (len < 126) {
    frame[1] = 0x80 | len;
  } else if (len < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(len), 2);
  }
  crypto.randomFillSync(frame, head - 4, 4);
  for (let i = 0; i < len; i += 1) frame[head + i] = payload[i] ^ frame[head - 4 + (i & 3)];
  return frame;
}

class LeanSocket {
  constructor(socket) {
    this.socket = socket;
    this.onText = null; // (buf, start, end) for each text message once open
    this.onClose = null; // (reason) if the connection ends before terminate()
    this.closed = false;
    this._pending = null; // bytes of an incomplete frame (or of the HTTP response head)
    this._fragments = null; // parts of a fragmented message
    this._upgraded = false;
  }

  // Sends one text message (a string).
  send(text) {
    this.socket.write(clientFrame(0x1, Buffer.from(text)));
  }

  terminate() {
    this.closed = true;
    this.socket.destroy();
  }

  // Emits `42<id>[event, ...args]` and resolves with the milliseconds until its ack
  // (`43<id>[...]`) arrives. Takes over onText meanwhile: for a connection that is
  // otherwise quiet.
  roundTrip(id, event, args, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      const ack = Buffer.from(`43${id}[`);
      const previous = this.onText;
      const timer = setTimeout(() => {
        this.onText = previous;
        reject(new Error(`no ack for ${event} within ${timeoutMs} ms`));
      }, timeoutMs);
      const started = performance.now();
      this.onText = (data, start, end) => {
        if (!hasPrefix(data, start, end, ack)) return;
        const elapsed = performance.now() - started;
        clearTimeout(timer);
        this.onText = previous;
        resolve(elapsed);
      };
      this.send(`42${id}${JSON.stringify([event, ...args])}`);
    });
  }

  _lost(reason) {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    if (this.onClose) this.onClose(reason);
  }

  _read(nread, buf) {
    let data = buf;
    let start = 0;
    let end = nread;
    if (this._pending !== null) {
      data = Buffer.concat([this._pending, buf.subarray(0, nread)]);
      this._pending = null;
      end = data.length;
    }
    if (!this._upgraded) {
      const at = data.subarray(0, end).indexOf(HEADER_END);
      if (at < 0) {
        this._pending = Buffer.from(data.subarray(0, end));
        return;
      }
      if (data.compare(HTTP_101, 0, HTTP_101.length, 0, HTTP_101.length) !== 0) {
        return this._lost(`upgrade refused: ${data.toString("latin1", 0, at).split("\r\n")[0]}`);
      }
      this._upgraded = true;
      start = at + 4;
    }
    while (end - start >= 2) {
      const b0 = data[start];
      let len = data[start + 1] & 0x7f;
      let off = start + 2;
      if (len === 126) {
        if (end - off < 2) break;
        len = data.readUInt16BE(off);
        off += 2;
      } else if (len === 127) {
        if (end - off < 8) break;
        len = Number(data.readBigUInt64BE(off));
        off += 8;
      }
      if (data[start + 1] & 0x80) return this._lost("masked frame from the server");
      if (end - off < len) break;
      this._frame(b0, data, off, off + len);
      if (this.closed) return;
      start = off + len;
    }
    // The read buffer is reused: keep a copy of whatever is left over.
    if (start < end) this._pending = Buffer.from(data.subarray(start, end));
  }

  _frame(b0, data, start, end) {
    const opcode = b0 & 0x0f;
    if (opcode === 0x8) return this._lost("closed by the server");
    if (opcode === 0x9) return void this.socket.write(clientFrame(0xa, data.subarray(start, end)));
    if (opcode === 0xa) return undefined;
    if (opcode === 0x0 || (b0 & 0x80) === 0) {
      if (opcode !== 0x0) this._fragments = { opcode, parts: [] };
      if (this._fragments === null) return this._lost("continuation without a first frame");
      this._fragments.parts.push(Buffer.from(data.subarray(start, end)));
      if ((b0 & 0x80) === 0) return undefined;
      const whole = Buffer.concat(this._fragments.parts);
      const first = this._fragments.opcode;
      this._fragments = null;
      if (first === 0x1) this._text(whole, 0, whole.length);
      return undefined;
    }
    if (opcode === 0x1) this._text(data, start, end);
    return undefined;
  }

  _text(data, start, end) {
    if (end - start === 1 && data[start] === 0x32) return this.send("3"); // Engine.IO ping
    if (this.onText !== null) this.onText(data, start, end);
    return undefined;
  }
}

// Like open(), on a LeanSocket: connects (with `auth`, if given), joins `rooms` (acks
// awaited), resolves with it.
function openLean(port, rooms, timeoutMs = 30000, auth = null) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: "127.0.0.1",
      port,
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (nread, buf) => {
          lean._read(nread, buf); // never false: that would pause the socket
        },
      },
    });
    const lean = new LeanSocket(socket);
    let stage = 0;
    let pending = rooms.length;
    const timer = setTimeout(() => lean._lost("connect timeout"), timeoutMs);
    function failed(reason) {
      clearTimeout(timer);
      reject(new Error(reason));
    }
    lean.onClose = failed;
    socket.on("error", (error) => lean._lost(error.message));
    socket.on("close", () => lean._lost("connection closed"));
    socket.on("connect", () => {
      const key = crypto.randomBytes(16).toString("base64");
      socket.write(
        `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
          `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
          "Sec-WebSocket-Version: 13\r\n\r\n",
      );
    });
    lean.onText = (data, start, end) => {
      const c0 = data[start];
      const c1 = end - start > 1 ? data[start + 1] : 0;
      if (stage === 0 && c0 === 0x30) {
        stage = 1;
        lean.send(auth === null ? "40" : `40${JSON.stringify(auth)}`);
      } else if (stage === 1 && c0 === 0x34 && c1 === 0x30) {
        stage = 2;
        if (pending === 0) return done();
        socket.cork();
        rooms.forEach((room, i) => lean.send(`42${i}["join",${JSON.stringify(room)}]`));
        socket.uncork();
      } else if (stage === 1 && c0 === 0x34 && c1 === 0x34) {
        lean._lost(`connect refused: ${data.toString("utf8", start, end)}`);
      } else if (stage === 2 && c0 === 0x34 && c1 === 0x33) {
        pending -= 1;
        if (pending === 0) done();
      }
      return undefined;
    };
    function done() {
      clearTimeout(timer);
      lean.onText = null;
      lean.onClose = null;
      resolve(lean);
    }
  });
}

// Like openMany(), with lean connections.
function openManyLean(port, count, roomsFor, concurrency = 50) {
  return openMany(port, count, roomsFor, concurrency, openLean);
}

// Ends the measured window: prints END (the harness samples the server there), closes
// `sockets` and returns the generator's CPU seconds since `cpuStart`.
function endWindow(cpuStart, sockets) {
  const cpu = cpuSeconds(cpuStart);
  console.log("END");
  for (const socket of sockets) socket.terminate();
  return cpu;
}

// The longest a generator waits for deliveries still on their way after it stops sending.
const DRAIN_MS = 10000;

// Resolves once `condition()` holds, or after DRAIN_MS; checks every 5 ms.
async function drain(condition) {
  const until = performance.now() + DRAIN_MS;
  while (!condition() && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// The sender's pause while a window of deliveries is outstanding: the receivers call
// wake() once enough has drained; a timer ends the pause anyway after `ms`.
class Pause {
  constructor() {
    this.resume = null;
  }

  get waiting() {
    return this.resume !== null;
  }

  wait(ms = 50) {
    return new Promise((resolve) => {
      this.resume = resolve;
      setTimeout(() => this.wake(resolve), ms);
    });
  }

  wake(which = this.resume) {
    if (this.resume !== null && this.resume === which) {
      this.resume = null;
      which();
    }
  }
}

// The non-negative decimal integer at data[pos..] (leading spaces skipped); -1 if none.
function uintAt(data, pos, end) {
  while (pos < end && data[pos] === 0x20) pos += 1;
  let value = -1;
  for (; pos < end; pos += 1) {
    const digit = data[pos] - 0x30;
    if (digit < 0 || digit > 9) break;
    value = value < 0 ? digit : value * 10 + digit;
  }
  return value;
}

// Whether data[start..end) begins with the bytes of `prefix` (a Buffer).
function hasPrefix(data, start, end, prefix) {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i += 1) if (data[start + i] !== prefix[i]) return false;
  return true;
}

// Where `needle` (a short Buffer) first occurs in data[from..end), or -1.
function find(data, needle, from, end) {
  const first = needle[0];
  for (let at = from; at + needle.length <= end; at += 1) {
    if (data[at] === first && hasPrefix(data, at, end, needle)) return at;
  }
  return -1;
}

const T_KEY = Buffer.from('"t":');

// The send time, in microseconds, a generator wrote after `"t":` in data[from..end); -1 if none.
function sentAtUs(data, from, end) {
  const at = find(data, T_KEY, from, end);
  return at < 0 ? -1 : uintAt(data, at + T_KEY.length, end);
}

// Reads the broadcasts `<prefix><seq>,"t":<µs sent>...` that reach `lean`. For each, calls
// `deliver(seq, latencyMs, now, inOrder)` (inOrder: seq is the one after the last);
// a frame with the prefix that does not parse calls `broke(reason)` instead.
function readTimed(lean, prefix, deliver, broke) {
  let expected = 0;
  lean.onText = (data, start, end) => {
    const now = performance.now();
    if (!hasPrefix(data, start, end, prefix)) return;
    const seq = uintAt(data, start + prefix.length, end);
    const sentAt = sentAtUs(data, start + prefix.length, end);
    if (seq < 0 || sentAt < 0) {
      broke(`unparsable message ${data.toString("utf8", start, end)}`);
      return;
    }
    deliver(seq, now - sentAt / 1000, now, seq === expected);
    expected = seq + 1;
  };
}

function report(result) {
  console.log(JSON.stringify(result));
  process.exit(0);
}

function fail(error) {
  console.log(JSON.stringify({ error: String(error) }));
  process.exit(1);
}

module.exports = {
  DRAIN_MS,
  endWindow,
  Pause,
  drain,
  WebSocket,
  parseArgs,
  socketUrl,
  open,
  openMany,
  percentile,
  cpuSeconds,
  LeanSocket,
  openLean,
  openManyLean,
  uintAt,
  hasPrefix,
  find,
  sentAtUs,
  readTimed,
  report,
  fail,
};
