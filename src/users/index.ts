export { UsersService } from './users-service.js';
export type { ProfileList, ProfileSubscriber } from './users-service.js';
export { registerUserRoutes, profileView } from './users-routes.js';
export { PREFIX_END } from './profile-store.js';
export type { Profile, ProfilePatch, ProfileStore, SearchPage } from './profile-store.js';
export { ProfilePush, profileAudience, profileFrame } from './profile-push.js';
export type { AudienceSources } from './profile-push.js';
