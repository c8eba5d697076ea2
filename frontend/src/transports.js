// How every Roomcast page connects: WebSocket first, long-polling only if WebSocket fails.
//
// A WebSocket session is one TCP connection, so it stays on the node (and worker) that
// accepted it and needs no sticky load balancing. Long-polling is a series of requests that
// must all reach the process holding the session: it works behind a sticky balancer only
// (docs/deploy/README.md). socket.io-client's default starts with polling and upgrades;
// `tryAllTransports` makes a failed WebSocket fall back to polling instead of retrying
// WebSocket for ever (socket.io-client 4.8: without it a failed first transport is retried
// as is).

export const TRANSPORTS = Object.freeze({
  transports: ["websocket", "polling"],
  tryAllTransports: true,
});
