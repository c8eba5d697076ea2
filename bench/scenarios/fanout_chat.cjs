// Fan-out through the whole chat server (`roomcast serve`): N receivers join one room with
// the chat protocol (`join {room}`), one sender `send`s data messages into it, each stored
// with the next offset and broadcast to every member. Used to compare `--workers 1` with
// `--workers 2`: members then sit on both workers and messages cross Redis.
// Usage: node fanout_chat.cjs --port P --receivers N --seconds S [--size 200] [--window 64]
//        [--senders 32]
// The server handles one connection's events one after another and acks a send once it is
// committed, so one sender is held to one commit at a time: `senders` connections take
// turns, and their sends share the store's batched commits.
// Checks every receiver got every offset 1..sent, once each (across workers they may arrive
// out of order: a worker delivers its own at once, the other's through Redis).
const wire = require("./wire.cjs");

const { Pause, drain, endWindow, parseArgs, open, openMany, openLean, report, fail } = wire;
const { uintAt, find } = wire;

const args = parseArgs({ port: 0, receivers: 1000, seconds: 4, size: 200, window: 64, senders: 32 });
const ROOM = { room: "bench" };
const MESSAGE = Buffer.from('42["message"');
const OFFSET = Buffer.from('"offset":');

async function main() {
  const { port, receivers, seconds, size, window } = args;
  const senderCount = args.senders;
  const sockets = await openMany(port, receivers, () => [ROOM], 50, (p, rooms) =>
    openLean(p, rooms, 30000, { name: "receiver" }),
  );
  const senders = await openMany(port, senderCount, () => [ROOM], 50, (p, rooms) =>
    open(p, rooms, { auth: { name: "sender" } }),
  );
  let delivered = 0;
  let duplicated = 0;
  let broken = null;
  let lastDelivery = 0;
  let onDelivery = () => {};
  for (const socket of sockets) {
    const seen = new Set();
    socket.onClose = (reason) => {
      broken = broken || reason;
    };
    socket.onText = (data, start, end) => {
      if (!wire.hasPrefix(data, start, end, MESSAGE)) return;
      const at = find(data, OFFSET, start, end);
      if (at < 0) return;
      const offset = uintAt(data, at + OFFSET.length, end);
      if (seen.has(offset)) duplicated += 1;
      seen.add(offset);
      delivered += 1;
      lastDelivery = performance.now();
      onDelivery();
    };
  }
  const pad = "x".repeat(Math.max(0, size - 120)); // about `size` bytes with the envelope
  console.log("START");
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const stopAt = start + seconds * 1000;
  let sent = 0;
  const pause = new Pause();
  const lowWater = (window * receivers) / 2;
  onDelivery = () => {
    if (pause.waiting && sent * receivers - delivered <= lowWater) pause.wake();
  };
  while (performance.now() < stopAt && !broken) {
    while (sent * receivers - delivered < window * receivers) {
      const payload = { room: "bench", data: { seq: sent, pad }, cid: `c${sent}` };
      // No ack id: not waited for. Senders are members too (one must be to send), not counted.
      senders[sent % senderCount].send(`42${JSON.stringify(["send", payload])}`);
      sent += 1;
    }
    await pause.wait();
  }
  const expectedTotal = sent * receivers;
  await drain(() => delivered >= expectedTotal || broken);
  const cpu = endWindow(cpuStart, [...sockets, ...senders]);
  const elapsed = (lastDelivery - start) / 1000;
  if (broken) throw new Error(broken);
  report({
    receivers,
    sent,
    deliveries: delivered,
    seconds: elapsed,
    deliveries_per_s: delivered / elapsed,
    lost: expectedTotal - delivered,
    reordered: duplicated, // a duplicate is the failure here; order is the client's job
    loadgen_cpu_s: cpu,
  });
}

main().catch(fail);
