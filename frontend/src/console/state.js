// What the console knows about every room: activity, unread count, members, typing, and the
// timeline of the rooms it has opened. Views subscribe and re-render what changed.
//
// Unread = the room's newest offset − the console's read position (shared by all consoles on
// the server); the `rooms` answer gives both as `offset` and `unread`.

const PRESENCE_STATES = new Set(["online", "away", "offline"]);

/** A timeline entry's identity: messages by offset, events by sequence number. */
export function entryKey(entry) {
  return entry.type === "message" ? `m${entry.offset}` : `e${entry.seq}`;
}

function cleanMembers(members) {
  if (!Array.isArray(members)) return [];
  return members
    .filter((m) => m && typeof m === "object")
    .map((m) => ({
      id: String(m.id ?? ""),
      name: String(m.name ?? ""),
      state: PRESENCE_STATES.has(m.state) ? m.state : "offline",
      typing: m.typing === true,
    }));
}

class RoomRecord {
  constructor(room) {
    this.room = room;
    this.offset = 0;
    this.readOffset = 0;
    this.ts = 0; // the newest message or event; 0 when unknown
    this.activity = 0; // what the list is sorted by: ts, or when testers were first seen here
    this.members = [];
    this.typing = new Map(); // member id -> name
    this.entries = null; // the timeline once opened: oldest first
    this.more = false; // older entries exist than the server sent
    this.keys = new Set();
  }

  get unread() {
    return Math.max(0, this.offset - this.readOffset);
  }

  /** Add a timeline entry unless it is already there; false for a duplicate. */
  add(entry) {
    if (this.entries === null) return false;
    const key = entryKey(entry);
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    this.entries.push(entry);
    return true;
  }
}

export class ConsoleState {
  constructor() {
    this.rooms = new Map();
    this.listeners = new Set();
  }

  /** `listener(room | null, what)`: what is "rooms", "room", "entry" (with the entry) or "typing". */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(room, what, detail) {
    for (const listener of this.listeners) listener(room, what, detail);
  }

  get(room) {
    let record = this.rooms.get(room);
    if (!record) {
      record = new RoomRecord(room);
      this.rooms.set(room, record);
    }
    return record;
  }

  /** Rooms by activity, most recent first. */
  ordered() {
    return [...this.rooms.values()].sort(
      (a, b) => b.activity - a.activity || a.room.localeCompare(b.room),
    );
  }

  /** The `rooms` answer: the full list, replacing counts and members. */
  setRooms(list) {
    const now = Date.now();
    const items = Array.isArray(list) ? list : [];
    items.forEach((item, index) => {
      if (!item || typeof item.room !== "string") return;
      const record = this.get(item.room);
      record.offset = Math.max(record.offset, Number(item.offset) || 0);
      record.readOffset = Math.max(0, (Number(item.offset) || 0) - (Number(item.unread) || 0));
      record.ts = Math.max(record.ts, Number(item.ts) || 0);
      // A room with testers but no message yet (ts null) is the newest activity: the server
      // lists those first, and the index keeps its order among them.
      record.activity = Math.max(record.activity, record.ts || now - index);
      record.members = cleanMembers(item.members);
    });
    this.emit(null, "rooms");
  }

  /** The `timeline` answer for one room: replaces what was kept, then live entries add on. */
  setTimeline(room, entries, more = false) {
    const record = this.get(room);
    record.more = more === true;
    record.entries = [];
    record.keys = new Set();
    for (const entry of Array.isArray(entries) ? entries : []) {
      if (entry && typeof entry === "object") record.add(entry);
    }
    this.emit(room, "room");
  }

  message(message) {
    if (!message || typeof message.room !== "string") return;
    const record = this.get(message.room);
    const offset = Number(message.offset) || 0;
    record.offset = Math.max(record.offset, offset);
    this.touch(record, message.ts);
    if (message.sender) record.typing.delete(String(message.sender.id));
    const entry = { type: "message", ...message };
    if (record.add(entry)) this.emit(message.room, "entry", entry);
    this.emit(null, "rooms");
  }

  event(event) {
    if (!event || typeof event.room !== "string") return;
    const record = this.get(event.room);
    this.touch(record, event.ts);
    const entry = { ...event, type: "event" };
    if (record.add(entry)) this.emit(event.room, "entry", entry);
    this.emit(null, "rooms");
  }

  touch(record, ts) {
    record.ts = Math.max(record.ts, Number(ts) || 0);
    record.activity = Math.max(record.activity, record.ts);
  }

  presence(update) {
    if (!update || typeof update.room !== "string") return;
    const record = this.get(update.room);
    if (record.activity === 0) record.activity = Date.now(); // a new room: testers just came
    record.members = cleanMembers(update.members);
    for (const member of record.members) {
      if (member.typing) record.typing.set(member.id, member.name);
      else record.typing.delete(member.id);
    }
    this.emit(update.room, "members");
    this.emit(null, "rooms");
  }

  typing(update) {
    if (!update || typeof update.room !== "string" || !update.member) return;
    const record = this.get(update.room);
    const id = String(update.member.id ?? "");
    if (update.typing === true) record.typing.set(id, String(update.member.name ?? ""));
    else record.typing.delete(id);
    this.emit(update.room, "typing");
    this.emit(null, "rooms");
  }

  /** The console has read `room` up to its newest message. */
  markRead(room) {
    const record = this.get(room);
    if (record.readOffset >= record.offset) return false;
    record.readOffset = record.offset;
    this.emit(null, "rooms");
    return true;
  }
}
