export { AuthService, hashPassword, hashToken } from './auth-service.js';
export type { Credentials, DeletionStep } from './auth-service.js';
export { UserDirectory } from './user-directory.js';
export { LoginThrottle } from './login-throttle.js';
export { SessionWatch } from './session-watch.js';
export type { SessionEnds } from './session-ends.js';
export type {
  AuthStores,
  Session,
  SessionStore,
  User,
  UserStore,
  UserWithSecret,
} from './store/index.js';
export { registerAuthRoutes } from './auth-routes.js';
export type { DeviceSession, LoginRecord, LoginSourceBounds } from './store/index.js';
export type { LoginSourceStore } from './store/index.js';
