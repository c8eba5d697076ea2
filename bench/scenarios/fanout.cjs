// Fan-out: N receivers in one room and one sender that broadcasts to it.
// Usage: node fanout.cjs --port P --receivers N --seconds S [--size 200] [--window 64]
//        [--client lean|ws]
// Keeps `window` broadcasts' worth of deliveries outstanding, checks every receiver got
// every sequence number in order, and reports deliveries/s, lost and reordered.
// Receivers are lean connections (wire.openLean) by default; `--client ws` uses the `ws`
// package instead, a generator with less room, to show whether the generator was the limit.
const wire = require("./wire.cjs");

const { Pause, drain, endWindow, parseArgs, open, openMany, openManyLean, report, fail } = wire;
const { uintAt, hasPrefix } = wire;

const args = parseArgs({ port: 0, receivers: 100, seconds: 5, size: 200, window: 64, client: "lean" });
const ROOM = "bench";
const PREFIX_TEXT = '42["m",{"seq":';
const PREFIX = Buffer.from(PREFIX_TEXT);

async function main() {
  const { port, receivers, seconds, size, window, client } = args;
  if (client !== "lean" && client !== "ws") throw new Error("--client is lean or ws");
  const sockets =
    client === "lean"
      ? await openManyLean(port, receivers, () => [ROOM])
      : await openMany(port, receivers, () => [ROOM]);
  const sender = await open(port, [ROOM]); // also in the room, but not counted
  let delivered = 0;
  let reordered = 0;
  let broken = null;
  let lastDelivery = 0;
  let onDelivery = () => {};
  const receive = (seq, state) => {
    if (seq !== state.expected) reordered += 1;
    state.expected = seq + 1;
    delivered += 1;
    lastDelivery = performance.now();
    onDelivery();
  };
  for (const socket of sockets) {
    const state = { expected: 0 };
    if (client === "lean") {
      socket.onClose = (reason) => {
        broken = broken || reason;
      };
      socket.onText = (data, start, end) => {
        if (hasPrefix(data, start, end, PREFIX)) receive(uintAt(data, start + PREFIX.length, end), state);
      };
    } else {
      socket.on("message", (data) => {
        const text = data.toString();
        if (text.startsWith(PREFIX_TEXT)) receive(parseInt(text.slice(PREFIX_TEXT.length), 10), state);
      });
    }
  }

  const frameOverhead = `42["m",{"seq":000000,"pad":""}]`.length;
  const pad = "x".repeat(Math.max(0, size - frameOverhead));
  console.log("START");
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const stopAt = start + seconds * 1000;
  let sent = 0;
  const pause = new Pause();
  // The receivers wake the sender when half of the window has drained, so the
  // generator never spins.
  const lowWater = (window * receivers) / 2;
  onDelivery = () => {
    if (pause.waiting && sent * receivers - delivered <= lowWater) pause.wake();
  };
  while (performance.now() < stopAt && !broken) {
    while (sent * receivers - delivered < window * receivers) {
      sender.send(`42["bcast","${ROOM}",{"seq":${sent},"pad":"${pad}"}]`);
      sent += 1;
    }
    await pause.wait();
  }
  const expectedTotal = sent * receivers;
  await drain(() => delivered >= expectedTotal || broken);
  const cpu = endWindow(cpuStart, [...sockets, sender]);
  const elapsed = (lastDelivery - start) / 1000;
  if (broken) throw new Error(broken);
  report({
    receivers,
    client,
    sent,
    deliveries: delivered,
    seconds: elapsed,
    deliveries_per_s: delivered / elapsed,
    lost: expectedTotal - delivered,
    reordered,
    loadgen_cpu_s: cpu,
  });
}

main().catch(fail);
