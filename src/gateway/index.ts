export { Gateway } from './gateway.js';
export type { GatewayDeps } from './gateway.js';
export type { Connection } from './connection.js';
export { attachWsTransport } from './ws-transport.js';
export type { WsTransportOptions } from './ws-transport.js';
export { listenTcpTransport } from './tcp-transport.js';
export type { TcpTransportOptions, TcpListener } from './tcp-transport.js';
