// Many small rooms: room r ("r<r>") has `members` members, connections
// (r * members + k) % connections for k < members, so each connection is in
// rooms * members / connections rooms. One sender (in no room) broadcasts to the rooms
// round-robin, each payload carrying its room and that room's seq.
// Usage: node rooms.cjs --port P --rooms R --members M --connections C --seconds S
//                       [--size 200] [--window 2048]
// Keeps at most `window` deliveries outstanding; every connection checks, per room, that
// the seqs arrive in order and without gaps. Reports deliveries/s, broadcasts/s, lost and
// reordered. Connections are lean (wire.openLean) so the generator stays cheap.
const wire = require("./wire.cjs");

const { Pause, drain, endWindow, parseArgs, openLean, openManyLean, report, fail } = wire;
const { uintAt, hasPrefix, find } = wire;

const args = parseArgs({
  port: 0,
  rooms: 10000,
  members: 3,
  connections: 1000,
  seconds: 5,
  size: 200,
  window: 2048,
});
const PREFIX = Buffer.from('42["m",{"r":');
const SEQ_KEY = Buffer.from('"seq":');

async function main() {
  const { port, rooms, members, connections, seconds, size, window } = args;
  if (!(rooms > 0 && members > 0 && connections >= members && seconds > 0 && window >= members)) {
    throw new Error("need --rooms > 0, --connections >= --members > 0, --window >= --members");
  }
  const roomsOf = Array.from({ length: connections }, () => []);
  for (let r = 0; r < rooms; r += 1) {
    for (let k = 0; k < members; k += 1) roomsOf[(r * members + k) % connections].push(`r${r}`);
  }
  const sockets = await openManyLean(port, connections, (c) => roomsOf[c]);
  roomsOf.length = 0;
  const sender = await openLean(port, []);

  // The next seq each (room, member k) pair expects, at r * members + k.
  const nextSeq = new Int32Array(rooms * members);
  let delivered = 0;
  let reordered = 0;
  let lastDelivery = 0;
  let broken = null;
  let onDelivery = () => {};
  sockets.forEach((lean, c) => {
    lean.onClose = (reason) => {
      broken = broken || `connection ${c}: ${reason}`;
    };
    lean.onText = (data, start, end) => {
      if (!hasPrefix(data, start, end, PREFIX)) return;
      const r = uintAt(data, start + PREFIX.length, end);
      const at = find(data, SEQ_KEY, start + PREFIX.length, end);
      const seq = at < 0 ? -1 : uintAt(data, at + SEQ_KEY.length, end);
      const k = (((c - r * members) % connections) + connections) % connections;
      if (r < 0 || r >= rooms || seq < 0 || k >= members) {
        broken = broken || `connection ${c} got ${data.toString("utf8", start, end)}`;
        return;
      }
      const slot = r * members + k;
      if (seq !== nextSeq[slot]) reordered += 1;
      nextSeq[slot] = seq + 1;
      delivered += 1;
      onDelivery();
    };
  });
  sender.onClose = (reason) => {
    broken = broken || `sender: ${reason}`;
  };

  // Padded so each delivered frame is about `size` bytes, as in fanout.cjs.
  const overhead = `42["m",{"r":0000,"seq":000000,"pad":""}]`.length;
  const pad = "x".repeat(Math.max(0, size - overhead));
  const roomSeq = new Int32Array(rooms); // broadcasts sent to each room so far
  console.log("START");
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const stopAt = start + seconds * 1000;
  let sent = 0;
  let room = 0;
  const pause = new Pause();
  // The receivers wake the sender when half of the window has drained, so the
  // generator never spins.
  const lowWater = window / 2;
  onDelivery = () => {
    lastDelivery = performance.now();
    if (pause.waiting && sent * members - delivered <= lowWater) pause.wake();
  };
  while (performance.now() < stopAt && !broken) {
    sender.socket.cork(); // one write for the whole burst
    while (sent * members - delivered + members <= window) {
      const s = roomSeq[room];
      roomSeq[room] = s + 1;
      sender.send(`42["bcast","r${room}",{"r":${room},"seq":${s},"pad":"${pad}"}]`);
      sent += 1;
      room = room + 1 === rooms ? 0 : room + 1;
    }
    sender.socket.uncork();
    await pause.wait();
  }
  const expectedTotal = sent * members;
  await drain(() => delivered >= expectedTotal || broken);
  const cpu = endWindow(cpuStart, [...sockets, sender]);
  if (broken) throw new Error(broken);
  if (delivered === 0) throw new Error("nothing delivered");
  const elapsed = (lastDelivery - start) / 1000;
  report({
    rooms,
    members,
    connections,
    sent,
    deliveries: delivered,
    seconds: elapsed,
    deliveries_per_s: delivered / elapsed,
    broadcasts_per_s: sent / elapsed,
    lost: expectedTotal - delivered,
    reordered,
    loadgen_cpu_s: cpu,
  });
}

main().catch(fail);
