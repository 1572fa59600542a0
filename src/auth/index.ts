export { AuthService, hashPassword, hashToken } from './auth-service.js';
export type { Credentials } from './auth-service.js';
export { UserDirectory } from './user-directory.js';
export { LoginThrottle } from './login-throttle.js';
export { SessionWatch } from './session-watch.js';
export type { SessionEnds } from './session-ends.js';
export type { AuthStore, Session, User, UserWithSecret } from './auth-store.js';
export { registerAuthRoutes } from './auth-routes.js';
