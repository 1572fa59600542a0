export { loadConfig, envName, ConfigError } from './config.js';
export { describeSettings } from './help.js';
export { SETTINGS } from './settings.js';
export type { Config, SeedApiMode, LogLevel, LogFormat, TrustProxy } from './config.js';
