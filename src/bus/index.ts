export { MemoryBus, MemoryBusHub } from './memory-bus.js';
export type { Bus, BusHandler, BusMessage, KickReason, SkipDevice } from './bus.js';
