// A typed event emitter, small on purpose: handlers run synchronously in the order they were
// added, and a handler that throws does not stop the others or the client. The event map decides
// each handler's payload type, for `on`, `once` and `off` alike.

export type Handler<T> = (payload: T) => void;

interface Subscription {
  /** What the application passed: `off(event, handler)` finds subscriptions by it. */
  readonly handler: Handler<never>;
  readonly once: boolean;
}

export class Emitter<Events extends object> {
  // An array per event, not a set: the same function added twice is two subscriptions.
  readonly #subscriptions = new Map<keyof Events, Subscription[]>();
  readonly #onHandlerError: (err: unknown, event: keyof Events) => void;

  constructor(onHandlerError: (err: unknown, event: keyof Events) => void) {
    this.#onHandlerError = onHandlerError;
  }

  /** Adds a handler; returns the function that removes this one subscription. */
  on<K extends keyof Events>(event: K, handler: Handler<Events[K]>): () => void {
    return this.#add(event, { handler, once: false });
  }

  /** Adds a handler that is removed before its first call. */
  once<K extends keyof Events>(event: K, handler: Handler<Events[K]>): () => void {
    return this.#add(event, { handler, once: true });
  }

  /**
   * Removes one subscription of `handler` (the oldest, as component-emitter does), or every
   * handler of the event when `handler` is absent.
   */
  off<K extends keyof Events>(event: K, handler?: Handler<Events[K]>): void {
    const list = this.#subscriptions.get(event);
    if (!list) return;
    const index = handler === undefined ? 0 : list.findIndex((s) => s.handler === handler);
    if (index < 0) return;
    if (handler === undefined) list.length = 0;
    else list.splice(index, 1);
    if (list.length === 0) this.#subscriptions.delete(event);
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const list = this.#subscriptions.get(event);
    if (!list) return;
    // A copy: handlers may add or remove handlers while this runs.
    for (const subscription of [...list]) {
      // One removed by an earlier handler of this same emit is not called.
      if (!list.includes(subscription)) continue;
      if (subscription.once) this.#remove(event, subscription);
      try {
        (subscription.handler as Handler<Events[K]>)(payload);
      } catch (err) {
        this.#onHandlerError(err, event);
      }
    }
  }

  count(event: keyof Events): number {
    return this.#subscriptions.get(event)?.length ?? 0;
  }

  #add(event: keyof Events, subscription: Subscription): () => void {
    let list = this.#subscriptions.get(event);
    if (!list) this.#subscriptions.set(event, (list = []));
    list.push(subscription);
    return () => this.#remove(event, subscription);
  }

  #remove(event: keyof Events, subscription: Subscription): void {
    const list = this.#subscriptions.get(event);
    const index = list?.indexOf(subscription) ?? -1;
    if (!list || index < 0) return;
    list.splice(index, 1);
    if (list.length === 0) this.#subscriptions.delete(event);
  }
}
