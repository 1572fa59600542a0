import type { Bus, BusHandler, BusMessage } from '../bus/index.js';
import type { ParleyMetrics } from './metrics.js';

/**
 * A Bus that counts what passes through it and hands everything else to the Bus it wraps, so the
 * bus backends stay free of metrics. Same contract as the wrapped Bus (bus/bus.ts).
 */
export class MeteredBus implements Bus {
  private readonly inner: Bus;
  private readonly metrics: ParleyMetrics;

  constructor(inner: Bus, metrics: ParleyMetrics) {
    this.inner = inner;
    this.metrics = metrics;
    // A backend that counts its own drops (RedisBus: Redis unreachable) shows them as a gauge.
    const dropped = (inner as { readonly dropped?: unknown }).dropped;
    if (typeof dropped === 'number') {
      metrics.gaugeFrom(
        'parley_bus_dropped',
        'Bus messages dropped since start because the bus backend was unreachable.',
        () => (inner as unknown as { readonly dropped: number }).dropped,
      );
    }
  }

  subscribe(nodeId: string, handler: BusHandler): Promise<void> {
    return this.inner.subscribe(nodeId, (message) => {
      this.metrics.busReceived(message.kind);
      handler(message);
    });
  }

  publish(nodeId: string, message: BusMessage): void {
    this.metrics.busPublished(message.kind);
    this.inner.publish(nodeId, message);
  }

  broadcast(message: BusMessage): void {
    this.metrics.busPublished(message.kind);
    this.inner.broadcast(message);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
