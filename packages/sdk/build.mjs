// Builds the package from the repository's sources: tsc compiles src/sdk/index.ts and node.ts,
// and what they import (src/protocol, two files of src/core), into dist/, and the Protobuf schema
// is copied to proto/, where the SDK reads it in Node (`codec: 'proto'`). Run from anywhere.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
// The repository's TypeScript, found from here by Node's resolution (packages/sdk has no
// node_modules of its own).
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(join(here, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json')], { stdio: 'inherit' });
mkdirSync(join(here, 'proto'), { recursive: true });
copyFileSync(join(root, 'proto', 'parley.proto'), join(here, 'proto', 'parley.proto'));
