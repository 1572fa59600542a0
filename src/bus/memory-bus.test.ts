// Proves that MemoryBus, the single-process default, keeps the Bus contract.
import { MemoryBus, MemoryBusHub } from './memory-bus.js';
import { runBusContract } from './bus.contract.js';

runBusContract({
  open: () => {
    const hub = new MemoryBusHub();
    return Promise.resolve({ make: () => new MemoryBus(hub), close: () => Promise.resolve() });
  },
});
