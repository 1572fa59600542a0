import type { ServerFrame } from '../protocol/index.js';

// The Bus seam: how nodes tell each other about pushes. It is a hint, never the truth: the store
// is, and a client closes any gap a lost bus message leaves through sync and pull.
//
// Contract (every backend; proven by bus.contract.ts):
// - Delivery is at most once. A message published while the backend is disconnected is dropped,
//   not queued; publish never throws and never waits for the receiver.
// - Messages from one publisher to one node arrive in the order they were published, however
//   many are published in one event-loop turn (a backend may carry a turn's messages to a node
//   together; each still reaches the handler as its own call). There is no order between publish
//   and broadcast (they may travel on different shards).
// - publish(node) reaches only that node's subscriber; broadcast reaches every subscribed node
//   except the publisher itself.
// - A node receives nothing before subscribe resolves, and nothing after close resolves.
// - The payload arrives as it was published (a structured copy, never the same object).

/** A session to leave out of a push: the device that caused it already has its answer. */
export interface SkipDevice {
  readonly user: string;
  readonly device: string;
}

/** `replaced`: a newer hello of the same device (4409); `revoked`: its token was revoked (4401). */
export type KickReason = 'replaced' | 'revoked';

export type BusMessage =
  /** Push a frame to these users' sessions on the receiving node. */
  | {
      readonly kind: 'push';
      readonly users: readonly string[];
      readonly frame: ServerFrame;
      readonly skip?: SkipDevice;
      /** For a message frame: its predecessor's stamp, the sequencer's hint (messageStored). */
      readonly previousAtUs?: number;
    }
  /** Push a frame to the receiving node's sessions of this conversation's members (big groups). */
  | {
      readonly kind: 'conversation';
      readonly conversation: string;
      readonly frame: ServerFrame;
      readonly skip?: SkipDevice;
      readonly previousAtUs?: number;
    }
  /** Close this device's session on the receiving node: it logged in again elsewhere, or out. */
  | {
      readonly kind: 'kick';
      readonly user: string;
      readonly device: string;
      readonly reason?: KickReason;
    }
  /** A conversation's membership changed: drop cached member lists. */
  | { readonly kind: 'members-changed'; readonly conversation: string };

export type BusHandler = (message: BusMessage) => void;

export interface Bus {
  /** Starts delivering to `handler` what is published to this node and broadcast by others. */
  subscribe(nodeId: string, handler: BusHandler): Promise<void>;
  publish(nodeId: string, message: BusMessage): void;
  broadcast(message: BusMessage): void;
  close(): Promise<void>;
}
