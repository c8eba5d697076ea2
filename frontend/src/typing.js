// Typing, both ways: the line above the composer ("Ada is typing…") and our own notices,
// sent at most every few seconds while keys are pressed and withdrawn after 3 s of quiet.

const REFRESH_MS = 2500;
const IDLE_MS = 3000;

/** "Ada is typing…", "Ada and Bob are typing…", "Ada, Bob and 2 others are typing…". */
export function typingText(names) {
  const shown = names.filter(Boolean);
  if (shown.length === 0) return "";
  if (shown.length === 1) return `${shown[0]} is typing…`;
  if (shown.length === 2) return `${shown[0]} and ${shown[1]} are typing…`;
  if (shown.length === 3) return `${shown[0]}, ${shown[1]} and ${shown[2]} are typing…`;
  return `${shown[0]}, ${shown[1]} and ${shown.length - 2} others are typing…`;
}

export class TypingNotifier {
  /** send(typing) emits a `typing` event; it is only called on a change or a refresh. */
  constructor(send) {
    this.send = send;
    this.active = false;
    this.lastSent = 0;
    this.idleTimer = null;
  }

  /** The composer changed; `hasText` says whether anything is left in it. */
  input(hasText) {
    if (!hasText) {
      this.stop();
      return;
    }
    const now = Date.now();
    if (!this.active || now - this.lastSent >= REFRESH_MS) {
      this.active = true;
      this.lastSent = now;
      this.send(true);
    }
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stop(), IDLE_MS);
  }

  /** Typing is over (sent, emptied or idle). */
  stop() {
    clearTimeout(this.idleTimer);
    if (!this.active) return;
    this.active = false;
    this.send(false);
  }

  /** The connection dropped: the server forgets our typing by itself. */
  reset() {
    clearTimeout(this.idleTimer);
    this.active = false;
  }
}
