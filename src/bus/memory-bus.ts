import type { Bus, BusHandler, BusMessage } from './bus.js';

/**
 * The nodes of one process. A single-node server needs no bus at all; tests use one hub to run
 * several nodes in one process.
 */
export class MemoryBusHub {
  readonly nodes = new Map<string, BusHandler>();
}

/**
 * The in-process Bus. A single node needs no bus (compose/ passes none); this one connects
 * several nodes inside one process, for tests. Delivery is asynchronous.
 */
export class MemoryBus implements Bus {
  private readonly hub: MemoryBusHub;
  private nodeId: string | null = null;

  constructor(hub: MemoryBusHub = new MemoryBusHub()) {
    this.hub = hub;
  }

  subscribe(nodeId: string, handler: BusHandler): Promise<void> {
    this.nodeId = nodeId;
    this.hub.nodes.set(nodeId, handler);
    return Promise.resolve();
  }

  publish(nodeId: string, message: BusMessage): void {
    this.deliver(nodeId, message);
  }

  broadcast(message: BusMessage): void {
    for (const nodeId of this.hub.nodes.keys())
      if (nodeId !== this.nodeId) this.deliver(nodeId, message);
  }

  close(): Promise<void> {
    if (this.nodeId !== null) this.hub.nodes.delete(this.nodeId);
    this.nodeId = null;
    return Promise.resolve();
  }

  private deliver(nodeId: string, message: BusMessage): void {
    const copy = structuredClone(message);
    // Looked up at delivery time, so a node that closed in between receives nothing.
    queueMicrotask(() => this.hub.nodes.get(nodeId)?.(copy));
  }
}
