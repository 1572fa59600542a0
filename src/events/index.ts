export { EventPublisher } from './event-publisher.js';
export { RedisStreamSink } from './redis-stream-sink.js';
export { WebhookSink, signWebhook } from './webhook-sink.js';
export type { WebhookOptions } from './webhook-sink.js';
export type { EventSink, ParleyEvent, ParleyEventType } from './event-sink.js';
