export { exportUser } from './data-export.js';
export type { ExportDeps } from './data-export.js';
export { registerExportRoutes } from './export-routes.js';
export { exportDeps } from './export-sources.js';
export type { ExportSources } from './export-sources.js';
