// A typed event emitter, small on purpose: handlers run synchronously in the order they were
// added, and a handler that throws does not stop the others or the client.

type Handler<T> = (payload: T) => void;

export class Emitter<Events extends object> {
  readonly #handlers = new Map<keyof Events, Set<Handler<never>>>();
  readonly #onHandlerError: (err: unknown, event: keyof Events) => void;

  constructor(onHandlerError: (err: unknown, event: keyof Events) => void) {
    this.#onHandlerError = onHandlerError;
  }

  on<K extends keyof Events>(event: K, handler: Handler<Events[K]>): () => void {
    let set = this.#handlers.get(event);
    if (!set) this.#handlers.set(event, (set = new Set()));
    // A wrapper, so that adding the same function twice gives two independent subscriptions.
    const entry: Handler<Events[K]> = (payload) => handler(payload);
    set.add(entry);
    return () => void set.delete(entry);
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.#handlers.get(event);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        (handler as Handler<Events[K]>)(payload);
      } catch (err) {
        this.#onHandlerError(err, event);
      }
    }
  }

  count(event: keyof Events): number {
    return this.#handlers.get(event)?.size ?? 0;
  }
}
