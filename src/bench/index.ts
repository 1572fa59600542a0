// The benchmark harness (parley bench, docs/benchmarks.md): Parley against a bare relay in the
// same run. Loaded on demand by the CLI, so `serve` never loads autocannon or the bench client.
export { runBench, runBenchCli, runScenario } from './cli.js';
