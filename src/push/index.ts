export { PushNotifier } from './push-notifier.js';
export type { PushNotifierDeps } from './push-notifier.js';
export { registerPushRoutes } from './push-routes.js';
export type { Pusher, PusherStore } from './pusher-store.js';
