import { fileURLToPath } from 'node:url';
import type { Config } from '../config/index.js';
import type { Logger } from '../core/logger.js';
import { RequestSlots } from '../core/request-slots.js';
import { UserBudget } from '../core/user-budget.js';
import { registerAttachmentRoutes } from '../attachments/index.js';
import { registerAuthRoutes } from '../auth/index.js';
import { registerContactRoutes } from '../contacts/index.js';
import { exportDeps, registerExportRoutes } from '../export/index.js';
import { SendBudget, registerGroupRoutes, registerMessagingRoutes } from '../messaging/index.js';
import {
  Health,
  registerOperationsRoutes,
  type ParleyMetrics,
  type ReadinessCheck,
} from '../observability/index.js';
import type { OutboundClient } from '../outbound/index.js';
import { registerPushRoutes } from '../push/index.js';
import { SeedApi, registerSeedRoutes } from '../seed/index.js';
import {
  createHttpApp,
  registerApiDocs,
  registerWebClient,
  type HttpApp,
} from '../server/index.js';
import { registerUserRoutes } from '../users/index.js';
import type { Cluster } from './cluster.js';
import type { Services } from './services.js';
import type { Stores } from './stores.js';

// The HTTP edge of a full node: REST, the seed API, operations, the API documentation and the
// web client, on one Fastify app (not listening yet: the caller listens once every edge is in).

/** The built web client, one directory up from both src/ and dist/. */
const WEB_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export interface HttpEdge {
  readonly app: HttpApp;
  readonly health: Health;
  /** Heavy reads per user on this node, over HTTP and the real-time gateway alike. */
  readonly reads: RequestSlots;
  readonly seed: SeedApi;
}

export interface HttpInputs {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: ParleyMetrics;
  readonly stores: Stores;
  readonly cluster: Cluster | null;
  readonly services: Services;
  readonly pushOutbound: OutboundClient;
}

/** Creates the app and registers every route of a full node on it. */
export async function composeHttp(inputs: HttpInputs): Promise<HttpEdge> {
  const { config, log, stores, services } = inputs;
  const { auth, budgets, messaging, users } = services;
  const limits = config.limits;
  const app = createHttpApp({
    bodyBytesMax: limits.httpBodyBytesMax,
    logger: log,
    trustProxy: config.http.trustProxy,
  });
  await registerApiDocs(app);
  const health = new Health({ checks: readiness(stores, inputs.cluster), logger: log });
  registerOperationsRoutes(app, { metrics: inputs.metrics, health });
  registerAuthRoutes(app, auth);
  const authenticate = (token: string | undefined) => auth.authenticate(token);
  const reads = new RequestSlots(limits.userRequestsInFlightMax, limits.userRequestsQueuedMax);
  registerMessagingRoutes(app, {
    messaging,
    users,
    authenticate,
    sendBudget: new SendBudget(budgets, {
      ratePerSec: limits.sendRatePerSec,
      burstMax: limits.sendBurstMax,
    }),
    reads,
    searchBudget: new UserBudget(budgets, {
      name: 'search',
      burst: limits.searchBurstMax,
      refillMs: limits.searchRefillMs,
      refusal: 'Too many searches; slow down.',
    }),
  });
  registerGroupRoutes(app, { messaging, authenticate });
  registerAttachmentRoutes(app, { attachments: services.attachments, authenticate });
  registerContactRoutes(app, { contacts: services.contacts, authenticate });
  registerUserRoutes(app, { users: services.profiles, authenticate });
  registerExportRoutes(app, {
    data: exportDeps({
      users: stores.auth.users,
      sessions: stores.auth.sessions,
      profiles: stores.profiles,
      contacts: services.contacts,
      inbox: stores.messages.inbox,
      log: stores.messages.log,
    }),
    budget: new UserBudget(budgets, {
      name: 'export',
      burst: 3,
      refillMs: 20 * 60_000,
      refusal: 'Too many exports; try again later.',
    }),
    authenticate,
  });
  registerPushRoutes(app, {
    store: stores.pushers,
    notifier: services.pushes,
    gateways: inputs.pushOutbound.allow,
    authenticate,
  });
  const seed = composeSeed(inputs);
  registerSeedRoutes(app, {
    seed,
    mode: config.http.seedApi,
    authenticate,
    bodyBytesMax: limits.httpBodyBytesMax,
    reads,
  });
  await registerWebClient(app, { dir: WEB_DIR });
  return { app, health, reads, seed };
}

/** What /readyz asks: the store, and on a cluster the bus. */
function readiness(stores: Stores, cluster: Cluster | null): ReadinessCheck[] {
  const checks: ReadinessCheck[] = [
    // A one-row index probe: proves the store answers queries, whichever backend it is.
    { name: 'store', probe: () => stores.auth.users.findUserByUsername('') },
  ];
  const redis = cluster?.redis;
  if (redis) checks.push({ name: 'bus', probe: () => redis.ping() });
  return checks;
}

/** The seed API over messaging, its page cache kept fresh by messaging's events. */
function composeSeed(inputs: HttpInputs): SeedApi {
  const { messaging } = inputs.services;
  const seed = new SeedApi({
    mode: inputs.config.http.seedApi,
    messaging,
    users: inputs.services.users,
    limits: inputs.config.limits,
    cachePages: inputs.cluster === null,
  });
  messaging.events.subscribe(seed.pageEvents);
  messaging.events.subscribeActions(seed.pageActionEvents);
  return seed;
}
