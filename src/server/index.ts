export { createHttpApp, toParleyError } from './http-server.js';
export type { HttpServerOptions } from './http-server.js';
export { bearerToken, requireSession, sessionOf } from './http-app.js';
export type { HttpApp, Authenticate } from './http-app.js';
