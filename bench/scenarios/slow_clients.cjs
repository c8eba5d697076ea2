// Slow clients: how much do readers that stop reading slow the healthy members of their room?
// Usage: node slow_clients.cjs --port P --receivers N --stuck K --rate B --seconds S
//        [--size 16384] [--warmup 1]
// One run, two phases at the same steady rate of B broadcasts per second of `size` bytes
// to one room: first with N healthy receivers only ("none"), then with K more members that
// join and never read again ("stuck"). The stuck phase has no warm-up: the stuck ones cost
// most while the server's buffers for them fill, before it drops them. Reports latency
// p50/p99 to the healthy receivers in each phase and their ratios (stuck / none), how many
// stuck ones the server dropped (their socket is reset when read again after the phase),
// and lost/reordered deliveries to the healthy ones.
const wire = require("./wire.cjs");

const { drain, endWindow, parseArgs, open, openLean, openManyLean, percentile, report, fail } =
  wire;
const { readTimed } = wire;

const args = parseArgs({
  port: 0,
  receivers: 20,
  stuck: 10,
  rate: 100,
  seconds: 8,
  size: 16384,
  warmup: 1,
});
const ROOM = "slow";
const PREFIX = Buffer.from('42["m",{"seq":');

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main() {
  const { port, receivers, stuck, rate, seconds, size, warmup } = args;
  if (!(receivers > 0 && stuck >= 0 && rate > 0 && seconds > 0 && warmup >= 0)) {
    throw new Error("need --receivers > 0, --stuck >= 0, --rate > 0, --seconds > 0");
  }
  let broken = null;
  const healthy = await openManyLean(port, receivers, () => [ROOM]);
  const sender = await open(port, []);
  sender.on("close", () => {
    broken = broken || "the sender's connection closed";
  });

  let seq = 0; // next broadcast's number, over both phases
  let samples = [];
  let measureFrom = Infinity; // seq of the first broadcast whose latency counts
  let delivered = 0;
  let reordered = 0;
  for (const lean of healthy) {
    lean.onClose = (reason) => {
      broken = broken || `a healthy receiver closed: ${reason}`;
    };
    readTimed(
      lean,
      PREFIX,
      (got, latency, _now, inOrder) => {
        if (!inOrder) reordered += 1;
        delivered += 1;
        if (got >= measureFrom) samples.push(latency);
      },
      (reason) => {
        broken = broken || reason;
      },
    );
  }
  const overhead = `42["m",{"seq":000000,"t":0000000000,"pad":""}]`.length;
  const pad = "x".repeat(Math.max(0, size - overhead));

  // Sends `rate` broadcasts per second for `total` seconds; those after `skip` seconds count.
  async function phase(total, skip) {
    const perMs = rate / 1000;
    const count = Math.floor(perMs * total * 1000);
    const first = seq;
    measureFrom = first + Math.floor(perMs * skip * 1000);
    samples = [];
    const start = performance.now();
    while (seq < first + count && !broken) {
      const due = Math.min(first + count, first + Math.floor((performance.now() - start) * perMs) + 1);
      for (; seq < due; seq += 1) {
        const us = Math.round(performance.now() * 1000);
        sender.send(`42["bcast","${ROOM}",{"seq":${seq},"t":${us},"pad":"${pad}"}]`);
      }
      const next = start + (seq - first) / perMs;
      await sleep(Math.max(1, Math.ceil(next - performance.now())));
    }
    await drain(() => delivered >= seq * receivers || broken);
    const sorted = Float64Array.from(samples).sort();
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length };
  }

  console.log("START");
  const cpuStart = process.cpuUsage();
  const none = await phase(warmup + seconds, warmup);
  const stuckOnes = [];
  for (let i = 0; i < stuck; i += 1) {
    const lean = await openLean(port, [ROOM]);
    lean.socket.pause(); // from here on, this member reads nothing
    stuckOnes.push(lean);
  }
  const slowed = await phase(seconds, 0);
  // Read again: a socket the server dropped was reset, and says so at once.
  let dropped = 0;
  for (const lean of stuckOnes) {
    lean.onClose = () => {
      dropped += 1;
    };
    lean.onText = null;
    lean.socket.resume();
  }
  await sleep(2000);
  const cpu = endWindow(cpuStart, [...healthy, ...stuckOnes, sender]);
  if (broken) throw new Error(broken);
  const result = {
    receivers,
    stuck,
    rate,
    size,
    p50_none_ms: none.p50,
    p99_none_ms: none.p99,
    p50_stuck_ms: slowed.p50,
    p99_stuck_ms: slowed.p99,
    p50_ratio: none.p50 && slowed.p50 / none.p50,
    p99_ratio: none.p99 && slowed.p99 / none.p99,
    samples: none.n + slowed.n,
    dropped,
    lost: seq * receivers - delivered,
    reordered,
    loadgen_cpu_s: cpu,
  };
  if (!none.n || !slowed.n) result.error = "no latency samples";
  report(result);
}

main().catch(fail);
