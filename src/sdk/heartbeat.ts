// The client's own dead-link check (docs/protocol.md §8): a `ping` after a heartbeat with nothing
// received, and the link counts as dead when nothing comes back within one more. A half-open TCP
// connection otherwise looks alive until the operating system gives up, minutes later.

export class Heartbeat {
  readonly #ping: () => void;
  readonly #dead: () => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastRxAt = 0;
  #pingSentAt: number | null = null;

  /** `ping` writes a ping on the link; `dead` is called once the link is judged dead. */
  constructor(ping: () => void, dead: () => void) {
    this.#ping = ping;
    this.#dead = dead;
  }

  /** Something came from the server: the link is alive. */
  received(): void {
    this.#lastRxAt = Date.now();
  }

  start(heartbeatMs: number): void {
    this.stop();
    this.#pingSentAt = null;
    this.#timer = setInterval(
      () => this.#tick(heartbeatMs),
      Math.max(100, Math.floor(heartbeatMs / 2)),
    );
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Asks now (the network came back, say), instead of waiting for a quiet heartbeat. */
  probe(): void {
    this.#ping();
    this.#pingSentAt ??= Date.now();
  }

  #tick(heartbeatMs: number): void {
    const now = Date.now();
    if (this.#pingSentAt !== null && this.#lastRxAt < this.#pingSentAt) {
      if (now - this.#pingSentAt >= heartbeatMs) {
        this.stop();
        this.#dead();
      }
      return;
    }
    this.#pingSentAt = null;
    if (now - this.#lastRxAt >= heartbeatMs) {
      this.#ping();
      this.#pingSentAt = now;
    }
  }
}
