// Proves that the SDK's published types work for a user of the package: the declarations that
// `npm run build` emits for `parley/sdk` and `parley/sdk/node` (package.json "exports" name them)
// type-check a browser program (DOM, no Node types) and a Node program, in strict mode and
// without skipLibCheck, so the .d.ts files themselves are checked too.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import ts from 'typescript';

const SRC = new URL('../', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'parley-sdk-dts-'));

after(() => rmSync(dir, { recursive: true, force: true }));

function messages(diagnostics: readonly ts.Diagnostic[]): string[] {
  return diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

/** Emits the SDK's declarations the way tsconfig.json does, into `dir`/dts. */
function emitDeclarations(): void {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.json'),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
  );
  assert.ok(config, 'tsconfig.json parses');
  assert.equal(config.options.declaration, true, 'npm run build emits declarations');
  const program = ts.createProgram([join(SRC, 'sdk/index.ts'), join(SRC, 'sdk/node.ts')], {
    ...config.options,
    emitDeclarationOnly: true,
    outDir: join(dir, 'dts'),
    sourceMap: false,
  });
  const result = program.emit();
  assert.deepEqual(messages(result.diagnostics), []);
}

function typeCheck(file: string, source: string, options: ts.CompilerOptions): string[] {
  const path = join(dir, file);
  writeFileSync(path, source);
  const program = ts.createProgram([path], {
    strict: true,
    exactOptionalPropertyTypes: true,
    noEmit: true,
    skipLibCheck: false,
    target: ts.ScriptTarget.ES2022,
    ...options,
  });
  return messages(ts.getPreEmitDiagnostics(program));
}

describe('the SDK declarations', () => {
  it('are what package.json exports, and type-check browser and Node programs', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.exports['./sdk'].types, './dist/sdk/index.d.ts');
    assert.equal(pkg.exports['./sdk/node'].types, './dist/sdk/node.d.ts');
    emitDeclarations();

    const browser = `
      import { ParleyApi, createClient, isParleyClientError, type Body } from './dts/sdk/index.js';
      const body: Body = { kind: 'text', text: 'hi' };
      const api = new ParleyApi({ url: 'https://chat.example' });
      type Options = Parameters<typeof createClient>[0];
      export const uses = [api, body, isParleyClientError, (o: Options) => createClient(o)];
    `;
    assert.deepEqual(
      typeCheck('browser.ts', browser, {
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
        types: [],
      }),
      [],
    );

    const node = `
      import { FileOutbox } from './dts/sdk/node.js';
      import { createClient } from './dts/sdk/index.js';
      export const uses = [FileOutbox, createClient];
    `;
    assert.deepEqual(
      typeCheck('node.ts', node, {
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        lib: ['lib.es2023.d.ts'],
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules/@types')],
      }),
      [],
    );
  });
});
