// The seed API: the HTTP send/pull API Parley was created from (docs/seed-api.md), its gRPC
// IMService, and the HTTP role's forwarder. An edge like gateway/ and rpc/: it reaches
// messaging only through messaging/index.ts.
export { SeedApi, parseChat, SEED_DEVICE } from './seed-api.js';
export type {
  SeedEndpoint,
  SeedMode,
  SeedPage,
  SeedMessage,
  SeedPull,
  SeedSend,
} from './seed-api.js';
export { registerSeedRoutes, withSeedHint } from './seed-routes.js';
export { imServiceHandlers, USER_TOKEN_KEY } from './im-service.js';
export type { ImServiceDeps } from './im-service.js';
export { SeedForwarder } from './seed-forwarder.js';
