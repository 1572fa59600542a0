export { createHttpApp, toParleyError } from './http-server.js';
export type { HttpServerOptions } from './http-server.js';
export { bearerToken, holdReadSlot, requireSession, sessionOf } from './http-app.js';
export type { HttpApp, Authenticate } from './http-app.js';
export { registerApiDocs, errorCodesOf } from './api-docs.js';
export { ROUTE_DOCS, isHidden } from './route-docs.js';
export type { RouteDoc, RouteEntry, RouteTag, HiddenRoute } from './route-docs.js';
export { registerWebClient } from './web-client.js';
