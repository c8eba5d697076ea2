// Scenarios run by the official socket.io-client (npm) against a Roomcast server.
// Usage: node scenarios.cjs <scenario> <url> [transports]; prints one JSON result line.
// socket.io-client is resolved from frontend/node_modules through NODE_PATH.
const { io } = require("socket.io-client");

const [scenario, url, transportArg] = process.argv.slice(2);
const transports =
  transportArg === "websocket" ? ["websocket"] : transportArg === "polling" ? ["polling"] : ["polling", "websocket"];

function connect(name, options = {}) {
  return io(url, { auth: { name }, transports, reconnectionDelay: 100, reconnectionDelayMax: 200, ...options });
}

function once(socket, event) {
  return new Promise((resolve) => socket.once(event, (...args) => resolve(args)));
}

function waitUntil(predicate, what, ms = 10000) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (predicate()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > ms) {
        clearInterval(timer);
        reject(new Error("timed out waiting for " + (typeof what === "function" ? what() : what)));
      }
    }, 10);
  });
}

const call = (socket, event, payload) => socket.timeout(10000).emitWithAck(event, payload);

async function chat() {
  const ada = connect("Ada");
  const bob = connect("Bob");
  await Promise.all([once(ada, "connect"), once(bob, "connect")]);
  const received = { ada: [], bob: [] };
  ada.on("message", (m) => received.ada.push(m));
  bob.on("message", (m) => received.bob.push(m));
  const joinAda = await call(ada, "join", { room: "js" });
  const joinBob = await call(bob, "join", { room: "js" });
  const sent = await call(ada, "send", { room: "js", text: "from node", cid: "n1" });
  const retry = await call(ada, "send", { room: "js", text: "from node", cid: "n1" });
  const bad = await call(ada, "send", { room: "js", text: "", cid: "n2" });
  await waitUntil(() => received.bob.length >= 1 && received.ada.length >= 1, "broadcast");
  const result = {
    transport: ada.io.engine.transport.name,
    joinOk: joinAda.ok && joinBob.ok,
    members: joinBob.members.map((m) => m.name).sort(),
    sentOffset: sent.message.offset,
    retrySameId: retry.message.id === sent.message.id,
    badCode: bad.ok ? null : bad.error.code,
    bobGot: received.bob.map((m) => [m.offset, m.text, m.sender.name]),
  };
  ada.close();
  bob.close();
  return result;
}

async function refused() {
  const socket = io(url, { auth: {}, transports, reconnection: false });
  const [err] = await once(socket, "connect_error");
  socket.close();
  return { message: err.message, data: err.data };
}

async function recovery() {
  const ada = connect("Ada");
  const bob = connect("Bob");
  await Promise.all([once(ada, "connect"), once(bob, "connect")]);
  const got = [];
  ada.on("message", (m) => got.push(m.offset));
  await call(ada, "join", { room: "rec" });
  await call(bob, "join", { room: "rec" });
  await call(bob, "send", { room: "rec", text: "before", cid: "b0" });
  await waitUntil(() => got.length === 1, "first message");
  const firstId = ada.id;
  const disconnected = once(ada, "disconnect");
  const reconnected = once(ada, "connect");
  ada.io.engine.close(); // the network goes away; the client reconnects by itself
  await disconnected;
  for (let i = 1; i <= 3; i++) await call(bob, "send", { room: "rec", text: "missed " + i, cid: "b" + i });
  await reconnected;
  await waitUntil(() => got.length >= 4, () => "missed messages, got " + JSON.stringify(got) + " recovered " + ada.recovered);
  // A message sent after recovery still arrives: the room membership came back too.
  await call(bob, "send", { room: "rec", text: "after", cid: "b4" });
  await waitUntil(() => got.length >= 5, "message after recovery");
  const result = { recovered: ada.recovered, sameId: ada.id === firstId, offsets: got };
  ada.close();
  bob.close();
  return result;
}

// One member of a room whose others are on other server processes (test_cluster.py):
// Jo joins "mesh", waits for "ping" from another process, answers "pong", and reports what
// the join ack, presence and typing events showed.
async function mesh() {
  const jo = connect("Jo");
  await once(jo, "connect");
  const got = [];
  const typing = [];
  let presence = null;
  jo.on("message", (m) => got.push([m.offset, m.text, m.sender && m.sender.name]));
  jo.on("typing", (t) => typing.push([t.member.name, t.typing]));
  jo.on("presence", (p) => (presence = p.members.map((m) => [m.name, m.state])));
  const joined = await call(jo, "join", { room: "mesh" });
  console.log(JSON.stringify({ joined: true })); // the test waits for this line
  await waitUntil(() => got.some((m) => m[1] === "ping"), () => "ping; got " + JSON.stringify(got), 20000);
  const sent = await call(jo, "send", { room: "mesh", text: "pong", cid: "jo-1" });
  await waitUntil(() => got.some((m) => m[1] === "pong"), "own pong");
  const result = {
    joinMembers: joined.members.map((m) => m.name),
    sentOffset: sent.message.offset,
    got,
    typing,
    presence,
  };
  jo.close();
  return result;
}

// A member whose server restarts (test_graceful_shutdown.py): Jo joins "drain", prints
// {"joined": true}, and follows the room across the restart, joining again with `since`
// after every reconnection. Then it reads the number of messages to expect from stdin and
// reports how the connection ended and which offsets it got (each offset once).
async function restart() {
  const jo = connect("Jo");
  const offsets = new Set();
  const ends = [];
  let reconnections = 0;
  jo.on("message", (m) => m.room === "drain" && offsets.add(m.offset));
  jo.on("disconnect", (reason) => ends.push({ reason }));
  jo.io.on("close", (reason, description) => {
    const context = description && description.context;
    ends.push({ engine: reason, code: context && context.code !== undefined ? context.code : null });
  });
  const highest = () => Math.max(0, ...offsets);
  const join = async () => {
    const ack = await call(jo, "join", { room: "drain", since: highest() });
    for (const m of ack.messages) offsets.add(m.offset);
  };
  await once(jo, "connect");
  await join();
  jo.on("connect", () => {
    reconnections += 1;
    join().catch((error) => ends.push({ rejoin: String(error) }));
  });
  console.log(JSON.stringify({ joined: true })); // the test waits for this line
  const expected = await new Promise((resolve) => {
    let input = "";
    process.stdin.on("data", (chunk) => {
      input += chunk;
      if (input.includes("\n")) resolve(Number(input.trim()));
    });
  });
  await waitUntil(() => offsets.size >= expected, () => "offsets, got " + JSON.stringify([...offsets]), 20000);
  const result = { ends: [...ends], reconnections, offsets: [...offsets].sort((a, b) => a - b) };
  jo.close();
  return result;
}

const scenarios = { chat, refused, recovery, mesh, restart };
// The restart scenario waits while servers stop and start, which takes longer under load.
const timer = setTimeout(() => {
  console.log(JSON.stringify({ error: "scenario timed out" }));
  process.exit(2);
}, scenario === "restart" ? 90000 : 30000);
scenarios[scenario]()
  .then((result) => {
    clearTimeout(timer);
    console.log(JSON.stringify(result));
    process.exit(0);
  })
  .catch((error) => {
    clearTimeout(timer);
    console.log(JSON.stringify({ error: String(error) }));
    process.exit(1);
  });
