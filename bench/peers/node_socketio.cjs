// The benchmark's room-broadcast app on Node's socket.io 4.8 (a peer, not part of Roomcast).
// Usage: node node_socketio.cjs PORT   — prints "READY <port>" once listening.
const { createServer } = require("http");
const { Server } = require("socket.io");

const port = Number(process.argv[2] || 0);
const httpServer = createServer();
const io = new Server(httpServer, { transports: ["websocket"], perMessageDeflate: false });

io.on("connection", (socket) => {
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack("ok");
  });
  socket.on("bcast", (room, payload) => {
    io.to(room).emit("m", payload);
  });
});

httpServer.listen(port, "127.0.0.1", () => {
  console.log("READY " + httpServer.address().port);
});
process.on("SIGTERM", () => process.exit(0));
