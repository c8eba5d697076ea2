// Durable chat sends: S senders, each in a room of its own, send chat messages one after
// another, each waiting for the server's ack (the message is in SQLite by then).
// Usage: node durable.cjs --port P [--senders 100] [--seconds 5] [--size 200] [--warmup 1]
// Reports acked sends/s, ack latency percentiles, and checks the store's offsets: per room
// the acks must carry 1, 2, 3, ... with no gap, every acked message must come back as a
// broadcast in order, and the room's last offset must equal the number of acks.
const { drain, open, parseArgs, percentile, report, fail } = require("./wire.cjs");

const args = parseArgs({ port: 0, senders: 100, seconds: 5, size: 200, warmup: 1 });

// A chat connection: Socket.IO connect with auth {name}, then acked events by id.
async function chatConnection(port, name) {
  const ws = await open(port, [], { auth: { name } });
  const pending = new Map();
  let nextId = 0;
  const conn = {
    ws,
    onMessage: () => {},
    emit(event, payload) {
      const id = nextId++;
      ws.send(`42${id}${JSON.stringify([event, payload])}`);
      return new Promise((done) => pending.set(id, done));
    },
  };
  ws.on("message", (data) => {
    const text = data.toString();
    if (text.startsWith("43")) {
      const bracket = text.indexOf("[");
      const id = Number(text.slice(2, bracket));
      const done = pending.get(id);
      pending.delete(id);
      if (done) done(JSON.parse(text.slice(bracket))[0]);
    } else if (text.startsWith('42["message"')) {
      conn.onMessage(JSON.parse(text.slice(2))[1]);
    }
  });
  return conn;
}

async function main() {
  const { port, senders, seconds, size, warmup } = args;
  const text = "x".repeat(size);
  const conns = [];
  for (let i = 0; i < senders; i += 1) conns.push(await chatConnection(port, `sender-${i}`));
  const rooms = conns.map((_, i) => `durable-${i}`);
  for (let i = 0; i < senders; i += 1) {
    const ack = await conns[i].emit("join", { room: rooms[i] });
    if (!ack.ok) throw new Error(`join refused: ${JSON.stringify(ack)}`);
  }
  const latencies = [];
  let acked = 0;
  let measuredAcks = 0;
  let gaps = 0;
  let refused = 0;
  let delivered = 0;
  let reordered = 0;
  const ackedPerRoom = new Array(senders).fill(0);
  console.log("START");
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const measureFrom = start + warmup * 1000;
  const stopAt = start + (warmup + seconds) * 1000;
  conns.forEach((conn, i) => {
    let expected = 1;
    conn.onMessage = (message) => {
      if (message.room !== rooms[i]) return;
      if (message.offset !== expected) reordered += 1;
      expected = message.offset + 1;
      delivered += 1;
    };
  });
  async function sender(i) {
    let seq = 0;
    while (performance.now() < stopAt) {
      const sentAt = performance.now();
      const ack = await conns[i].emit("send", { room: rooms[i], text, cid: `c${seq}` });
      const now = performance.now();
      seq += 1;
      if (!ack.ok) {
        refused += 1;
        continue;
      }
      acked += 1;
      ackedPerRoom[i] += 1;
      if (ack.message.offset !== ackedPerRoom[i]) gaps += 1;
      if (sentAt >= measureFrom) {
        measuredAcks += 1;
        latencies.push(now - sentAt);
      }
    }
  }
  await Promise.all(conns.map((_, i) => sender(i)));
  const measuredSeconds = (performance.now() - measureFrom) / 1000;
  await drain(() => delivered >= acked);
  const cpu = process.cpuUsage(cpuStart);
  console.log("END");
  // The store's view: each room's last offset must be exactly its number of acks.
  let storeMismatch = 0;
  for (let i = 0; i < senders; i += 1) {
    const ack = await conns[i].emit("join", { room: rooms[i], since: ackedPerRoom[i] });
    if (!ack.ok || ack.offset !== ackedPerRoom[i] || ack.messages.length !== 0) storeMismatch += 1;
  }
  latencies.sort((a, b) => a - b);
  for (const conn of conns) conn.ws.terminate();
  report({
    senders,
    acked,
    sends_per_s: measuredAcks / measuredSeconds,
    ack_p50_ms: percentile(latencies, 50),
    ack_p99_ms: percentile(latencies, 99),
    ack_p999_ms: percentile(latencies, 99.9),
    ack_max_ms: latencies[latencies.length - 1],
    refused,
    offset_gaps: gaps,
    store_mismatch: storeMismatch,
    lost: acked - delivered,
    reordered,
    error: refused || gaps || storeMismatch ? "refused sends, offset gaps or store mismatch" : undefined,
    loadgen_cpu_s: (cpu.user + cpu.system) / 1e6,
  });
}

main().catch(fail);
