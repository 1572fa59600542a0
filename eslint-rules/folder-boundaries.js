// @ts-check
// A local ESLint rule: a file reaches another folder only through that folder's index.ts (its
// face), never past it into the folder's other files (docs/architecture.md#folders-and-what-each-may-import).
//
// Allowed, for an import of `target` from `file`:
// - target is in file's own folder, or in a folder that encloses it (a subfolder may use its
//   parent's shared files: storage/sqlite/* may import storage/rows.ts);
// - target is the index.ts of any other folder;
// - target is in src/core/, the kernel: a folder of small independent primitives (errors, ids,
//   clock, limits, …) with no face of its own, each file its own module. A barrel there would
//   pull the logger and the metrics into every importer, the web client's SDK included.
// Anything else is a reach past a face. Tests (*.test.ts, *.contract.ts, test/, test-support/)
// may test internals and are not checked. Static imports, `export … from` and `import()` with
// a literal specifier are all checked.
import { dirname, join, relative, resolve, sep } from 'node:path';

/** The source file a relative specifier names (`.js` in the source is the `.ts` beside it). */
function targetOf(file, specifier) {
  const path = resolve(dirname(file), specifier);
  return path.replace(/\.js$/, '.ts').replace(/\.jsx$/, '.tsx');
}

/** Whether `dir` is `of` or encloses it. */
function encloses(dir, of) {
  return of === dir || of.startsWith(dir + sep);
}

/** Folders whose every file is public (see above), relative to the project root. */
const OPEN_FOLDERS = ['src/core'];

function isIndex(path) {
  return /[\\/]index\.tsx?$/.test(path);
}

/** @type {import('eslint').Rule.RuleModule} */
export const folderBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'Import another folder only through its index.ts' },
    messages: {
      pastFace:
        "'{{specifier}}' reaches into {{folder}}/ past its index.ts; import '{{face}}' (and export what you need there).",
    },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const root = context.cwd;
    const check = (node, source) => {
      if (!source || typeof source.value !== 'string') return;
      const specifier = source.value;
      if (!specifier.startsWith('.')) return;
      const target = targetOf(file, specifier);
      const folder = dirname(target);
      if (encloses(folder, dirname(file)) || isIndex(target)) return;
      if (OPEN_FOLDERS.some((open) => folder === join(root, open))) return;
      const face = relative(dirname(file), join(folder, 'index.js'));
      context.report({
        node,
        messageId: 'pastFace',
        data: {
          specifier,
          folder: relative(root, folder),
          face: face.startsWith('.') ? face : `./${face}`,
        },
      });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source.type === 'Literal' ? node.source : null),
    };
  },
};

export default { rules: { 'folder-boundaries': folderBoundaries } };
