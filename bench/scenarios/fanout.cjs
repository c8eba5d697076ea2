// Fan-out: N receivers in one room and one sender that broadcasts to it.
// Usage: node fanout.cjs --port P --receivers N --seconds S [--size 200] [--window 64]
// Keeps `window` broadcasts' worth of deliveries outstanding, checks every receiver got
// every sequence number in order, and reports deliveries/s, lost and reordered.
const { Pause, drain, parseArgs, open, openMany, report, fail } = require("./wire.cjs");

const args = parseArgs({ port: 0, receivers: 100, seconds: 5, size: 200, window: 64 });
const ROOM = "bench";

async function main() {
  const { port, receivers, seconds, size, window } = args;
  const sockets = await openMany(port, receivers, () => [ROOM]);
  const sender = await open(port, [ROOM]); // also in the room, but not counted
  let delivered = 0;
  let reordered = 0;
  let lastDelivery = 0;
  let onDelivery = () => {};
  const prefix = '42["m",{"seq":';
  for (const ws of sockets) {
    let expected = 0;
    ws.on("message", (data) => {
      const text = data.toString();
      if (!text.startsWith(prefix)) return;
      const seq = parseInt(text.slice(prefix.length), 10);
      if (seq !== expected) reordered += 1;
      expected = seq + 1;
      delivered += 1;
      lastDelivery = performance.now();
      onDelivery();
    });
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
  while (performance.now() < stopAt) {
    while (sent * receivers - delivered < window * receivers) {
      sender.send(`42["bcast","${ROOM}",{"seq":${sent},"pad":"${pad}"}]`);
      sent += 1;
    }
    await pause.wait();
  }
  const expectedTotal = sent * receivers;
  await drain(() => delivered >= expectedTotal);
  const cpu = process.cpuUsage(cpuStart);
  console.log("END");
  const elapsed = (lastDelivery - start) / 1000;
  for (const ws of [...sockets, sender]) ws.terminate();
  report({
    receivers,
    sent,
    deliveries: delivered,
    seconds: elapsed,
    deliveries_per_s: delivered / elapsed,
    lost: expectedTotal - delivered,
    reordered,
    loadgen_cpu_s: (cpu.user + cpu.system) / 1e6,
  });
}

main().catch(fail);
