// Idle connections: how fast N connections are set up, what they cost the server in
// memory, and the round trip of a request while all N are connected and idle.
// Usage: node idle.cjs --port P --connections N [--concurrency 50] [--settle 2] [--probes 200]
// Between START and END: open N connections (each joins one of 100 rooms, at most
// `concurrency` handshakes at a time), then wait `settle` seconds so the server's memory
// settles; the harness samples the server's RSS at START and END. Then, one at a time on
// `probes` connections spread evenly over the N, emit `join` again with an ack and time it.
// Connections are lean (wire.openLean): little client memory per connection.
const { parseArgs, openManyLean, percentile, report, fail, cpuSeconds } = require("./wire.cjs");

const args = parseArgs({ port: 0, connections: 1000, concurrency: 50, settle: 2, probes: 200 });
const ROOMS = 100;
const room = (i) => `idle-${i % ROOMS}`;

async function main() {
  const { port, connections, concurrency, settle, probes } = args;
  if (!(connections > 0 && concurrency > 0 && settle >= 0 && probes >= 0)) {
    throw new Error("need --connections > 0, --concurrency > 0, --settle >= 0, --probes >= 0");
  }
  console.log("START");
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const sockets = await openManyLean(port, connections, (i) => [room(i)], concurrency);
  const connectSeconds = (performance.now() - start) / 1000;
  await new Promise((resolve) => setTimeout(resolve, settle * 1000));
  const cpu = cpuSeconds(cpuStart);
  console.log("END");
  const loadgenRss = process.memoryUsage().rss;

  const dropped = sockets.filter((lean) => lean.closed).length;
  if (dropped) throw new Error(`${dropped} of ${connections} connections closed while idle`);
  const count = Math.min(probes, connections);
  const rtts = new Float64Array(count);
  for (let p = 0; p < count; p += 1) {
    const i = Math.floor((p * connections) / count);
    rtts[p] = await sockets[i].roundTrip(1, "join", [room(i)]);
  }
  rtts.sort();
  for (const lean of sockets) lean.terminate();
  report({
    connections,
    concurrency,
    connect_seconds: connectSeconds,
    connections_per_s: connections / connectSeconds,
    probes: count,
    rtt_p50_ms: percentile(rtts, 50),
    rtt_p99_ms: percentile(rtts, 99),
    rtt_max_ms: count ? rtts[count - 1] : null,
    loadgen_cpu_s: cpu,
    loadgen_rss_mib: loadgenRss / 2 ** 20,
  });
}

main().catch(fail);
