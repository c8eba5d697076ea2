// Tickets for the console's Socket.IO connection.
//
// The session cookie is HttpOnly: the page cannot read it, only trade it for a ticket that is
// valid for a minute. socket.io-client calls `consoleAuth` before every (re)connect, so a
// reconnect an hour later still presents a fresh ticket.

/** The session ended (signed out, new password, expired): show the sign-in page. */
function signInAgain() {
  window.location.assign("/console");
}

/** A fresh ticket; rejects when the server cannot be reached. */
export async function fetchTicket() {
  const response = await fetch("/console/ticket", {
    method: "POST",
    credentials: "same-origin",
    headers: { accept: "application/json" },
  });
  if (response.status === 401) {
    signInAgain();
    throw new Error("signed out");
  }
  const body = await response.json();
  if (!response.ok || typeof body.ticket !== "string") throw new Error("no ticket");
  return body.ticket;
}

/** socket.io-client's `auth` as a function: `{console: ticket, name}` on every connect. */
export function consoleAuth(getName) {
  return (callback) => {
    fetchTicket()
      .then((ticket) => callback({ console: ticket, name: getName() }))
      // Without a ticket the server refuses the connection, and the page says so.
      .catch(() => callback({ console: "", name: getName() }));
  };
}
