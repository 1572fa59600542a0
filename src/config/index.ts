export { loadConfig, describeSettings, envName, ConfigError, SETTINGS } from './config.js';
export type { Config, SeedApiMode, LogLevel, TrustProxy } from './config.js';
