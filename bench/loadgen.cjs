// Room fan-out load generator: N receivers in one room, one sender, raw Engine.IO v4 /
// Socket.IO v5 over WebSocket (the `ws` package), so the generator stays cheap.
// Usage: node loadgen.cjs --port P --receivers N --seconds S [--size 200] [--window 64]
// Prints one JSON line: deliveries, seconds, deliveries_per_s, lost, reordered, cpu.
const WebSocket = require("ws");

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith("--") ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
);
const port = Number(args.port);
const receivers = Number(args.receivers || 100);
const seconds = Number(args.seconds || 5);
const size = Number(args.size || 200);
const window = Number(args.window || 64);
const url = `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`;
const ROOM = "bench";

function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let stage = 0;
    const timer = setTimeout(() => reject(new Error("connect timeout")), 30000);
    ws.on("error", reject);
    ws.on("message", (data, isBinary) => {
      const text = data.toString();
      if (text === "2") return ws.send("3");
      if (stage === 0 && text[0] === "0") {
        stage = 1;
        ws.send("40");
      } else if (stage === 1 && text.startsWith("40")) {
        stage = 2;
        ws.send(`420["join","${ROOM}"]`);
      } else if (stage === 2 && text.startsWith("430")) {
        stage = 3;
        clearTimeout(timer);
        ws.removeAllListeners("message");
        resolve(ws);
      }
    });
  });
}

async function main() {
  const sockets = [];
  for (let i = 0; i < receivers; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(receivers, i + 50); j++) batch.push(open());
    sockets.push(...(await Promise.all(batch)));
  }
  const sender = await open(); // also in the room, but not counted as a receiver
  let delivered = 0;
  let reordered = 0;
  let lastDelivery = 0;
  let onDelivery = () => {};
  const prefix = '42["m",{"seq":';
  for (const ws of sockets) {
    let expected = 0;
    ws.on("message", (data) => {
      const text = data.toString();
      if (text === "2") return ws.send("3");
      if (!text.startsWith(prefix)) return;
      const seq = parseInt(text.slice(prefix.length), 10);
      if (seq !== expected) reordered += 1;
      expected = seq + 1;
      delivered += 1;
      lastDelivery = performance.now();
      onDelivery();
    });
  }
  sender.on("message", (data) => {
    if (data.toString() === "2") sender.send("3");
  });

  const frameOverhead = `42["m",{"seq":000000,"pad":""}]`.length;
  const pad = "x".repeat(Math.max(0, size - frameOverhead));
  console.log("START"); // the harness samples the server's CPU time from here
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const stopAt = start + seconds * 1000;
  let sent = 0;
  let wake = null;
  // Keep at most `window` broadcasts' worth of deliveries outstanding; the receivers
  // wake the sender when half of it has drained, so the generator never spins.
  const lowWater = (window * receivers) / 2;
  onDelivery = () => {
    if (wake && sent * receivers - delivered <= lowWater) {
      const resume = wake;
      wake = null;
      resume();
    }
  };
  while (performance.now() < stopAt) {
    while (sent * receivers - delivered < window * receivers) {
      sender.send(`42["bcast","${ROOM}",{"seq":${sent},"pad":"${pad}"}]`);
      sent += 1;
    }
    await new Promise((resolve) => {
      wake = resolve;
      setTimeout(() => { if (wake === resolve) { wake = null; resolve(); } }, 50);
    });
  }
  const expectedTotal = sent * receivers;
  const drainUntil = performance.now() + 10000;
  while (delivered < expectedTotal && performance.now() < drainUntil) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const cpu = process.cpuUsage(cpuStart);
  console.log("END");
  const elapsed = (lastDelivery - start) / 1000;
  for (const ws of [...sockets, sender]) ws.terminate();
  console.log(
    JSON.stringify({
      receivers,
      sent,
      deliveries: delivered,
      seconds: elapsed,
      deliveries_per_s: delivered / elapsed,
      lost: expectedTotal - delivered,
      reordered,
      loadgen_cpu_s: (cpu.user + cpu.system) / 1e6,
    }),
  );
  process.exit(0);
}

main().catch((error) => {
  console.log(JSON.stringify({ error: String(error) }));
  process.exit(1);
});
