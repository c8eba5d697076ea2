// Latency at a fixed rate: N receivers in one room, one sender (in no room) that
// broadcasts on a steady schedule, each payload carrying its seq and its send time.
// Usage: node latency.cjs --port P --receivers N --rate R --seconds S [--size 200] [--warmup 1]
// R is deliveries per second (R / N broadcasts per second). Sends for warmup + S seconds;
// latencies of the broadcasts sent during the warm-up are left out of the percentiles.
// Reports p50/p99/p99.9/max/mean in ms, the delivery rate achieved after the warm-up, lost
// and reordered; sets `error` if the sender, or the deliveries, fell more than 5% short of
// the schedule (a server that cannot keep up fails the run, however much it later drains).
// Receivers are lean connections (wire.openLean) so the generator stays cheap and the
// time it takes to read 100 sockets adds as little as possible to what it measures.
const wire = require("./wire.cjs");

const { drain, endWindow, parseArgs, open, openManyLean, percentile, report, fail } = wire;
const { readTimed } = wire;

const args = parseArgs({ port: 0, receivers: 100, rate: 5000, seconds: 5, size: 200, warmup: 1 });
const ROOM = "latency";
const MAX_LATE_MS = 100; // a sender further behind than this has stalled: skip, don't burst
const PREFIX = Buffer.from('42["m",{"seq":');

async function main() {
  const { port, receivers, rate, seconds, size, warmup } = args;
  if (!(receivers > 0 && rate > 0 && seconds > 0 && warmup >= 0)) {
    throw new Error("need --receivers > 0, --rate > 0, --seconds > 0, --warmup >= 0");
  }
  const perMs = rate / receivers / 1000; // broadcasts due per millisecond
  const scheduled = Math.max(1, Math.floor(perMs * (warmup + seconds) * 1000));
  const firstMeasured = Math.ceil(perMs * warmup * 1000); // seq of the first one after warm-up
  // Broadcast seq is due at start + seq / perMs.

  let broken = null; // why the run cannot be trusted, if it cannot
  const sockets = await openManyLean(port, receivers, () => [ROOM]);
  const sender = await open(port, []);
  sender.on("close", () => {
    broken = broken || "the sender's connection closed";
  });

  const samples = new Float64Array(Math.max(0, scheduled - firstMeasured) * receivers);
  let nSamples = 0;
  let delivered = 0;
  let reordered = 0;
  let inWindow = 0; // deliveries received during the measured window
  let windowStart = Infinity;
  let windowEnd = Infinity;
  const broke = (reason) => {
    broken = broken || reason;
  };
  for (const lean of sockets) {
    lean.onClose = broke;
    readTimed(
      lean,
      PREFIX,
      (seq, latency, now, inOrder) => {
        if (!inOrder) reordered += 1;
        delivered += 1;
        if (seq >= firstMeasured && nSamples < samples.length) samples[nSamples++] = latency;
        if (now >= windowStart && now < windowEnd) inWindow += 1;
      },
      broke,
    );
  }

  // Padded so each delivered frame is about `size` bytes, as in fanout.cjs.
  const overhead = `42["m",{"seq":000000,"t":0000000000,"pad":""}]`.length;
  const pad = "x".repeat(Math.max(0, size - overhead));
  console.log("START");
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  windowStart = start + warmup * 1000;
  windowEnd = windowStart + seconds * 1000;
  let sent = 0;
  let skipped = 0; // broadcasts given up because the sender was more than MAX_LATE_MS behind
  let sentInWindow = 0;
  const maxBurst = Math.max(1, Math.ceil(perMs * MAX_LATE_MS));
  await new Promise((resolve) => {
    // Each tick sends every broadcast due by now (so the rate holds when timers fire
    // late), then sleeps until the next one is due: no wake-ups with nothing to send.
    function tick() {
      const now = performance.now();
      let due = Math.min(scheduled, Math.floor((now - start) * perMs) + 1) - sent - skipped;
      if (due > maxBurst) {
        skipped += due - maxBurst;
        due = maxBurst;
      }
      for (; due > 0; due -= 1) {
        const t = performance.now();
        const us = Math.round(t * 1000);
        sender.send(`42["bcast","${ROOM}",{"seq":${sent},"t":${us},"pad":"${pad}"}]`);
        sent += 1;
        if (t >= windowStart && t < windowEnd) sentInWindow += 1;
      }
      if (sent + skipped >= scheduled || broken) return resolve();
      const nextDue = start + (sent + skipped) / perMs;
      return setTimeout(tick, Math.max(1, Math.ceil(nextDue - performance.now())));
    }
    tick();
  });
  const expectedTotal = sent * receivers;
  await drain(() => delivered >= expectedTotal || broken);
  const cpu = endWindow(cpuStart, [...sockets, sender]);
  if (broken) throw new Error(broken);

  const latencies = samples.subarray(0, nSamples).sort();
  let sum = 0;
  for (let i = 0; i < nSamples; i += 1) sum += latencies[i];
  const targetInWindow = Math.floor(perMs * seconds * 1000);
  const sendRate = (sentInWindow * receivers) / seconds;
  const result = {
    receivers,
    target_rate: rate,
    achieved_rate: inWindow / seconds,
    send_rate: sendRate,
    sent,
    skipped,
    samples: nSamples,
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    p999_ms: percentile(latencies, 99.9),
    max_ms: nSamples ? latencies[nSamples - 1] : null,
    mean_ms: nSamples ? sum / nSamples : null,
    lost: expectedTotal - delivered,
    reordered,
    loadgen_cpu_s: cpu,
  };
  if (sentInWindow < 0.95 * targetInWindow) {
    result.error =
      `sender fell behind: ${sendRate.toFixed(0)} deliveries/s sent, target ${rate} ` +
      `(${skipped} broadcasts skipped)`;
  } else if (result.achieved_rate < 0.95 * rate) {
    // Everything may still arrive within the drain, but late: the server did not keep up.
    result.error = `server fell behind: ${result.achieved_rate.toFixed(0)} deliveries/s of ${rate}`;
  } else if (nSamples === 0) {
    result.error = "no latency samples";
  }
  report(result);
}

main().catch(fail);
