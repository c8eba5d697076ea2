// Shared by the benchmark's load generators: argument parsing and the raw Engine.IO v4 /
// Socket.IO v5 handshake over WebSocket (the `ws` package), so generators stay cheap.
// Every generator prints START and END around its measured window (the harness samples
// the server's CPU time and RSS at each) and then one JSON line with its results.
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

// Opens one connection to the default namespace and joins `rooms` (each acked with a
// distinct id); resolves with the socket once every join is acked.
function open(port, rooms, timeoutMs = 30000) {
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
        ws.send("40");
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
async function openMany(port, count, roomsFor, concurrency = 50) {
  const sockets = new Array(count);
  let next = 0;
  async function worker() {
    while (next < count) {
      const i = next;
      next += 1;
      sockets[i] = await open(port, roomsFor(i));
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return sockets;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function report(result) {
  console.log(JSON.stringify(result));
  process.exit(0);
}

function fail(error) {
  console.log(JSON.stringify({ error: String(error) }));
  process.exit(1);
}

module.exports = { WebSocket, parseArgs, socketUrl, open, openMany, percentile, report, fail };
