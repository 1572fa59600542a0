export { MemoryBus, MemoryBusHub } from './memory-bus.js';
export type { Bus, BusHandler, BusMessage, SkipDevice } from './bus.js';
