// The module hooks of hide-packages.mjs: a hidden package fails to resolve with the error Node
// gives for a package that is not installed.
let hidden = [];

export function initialize(data) {
  hidden = data.hidden;
}

export async function resolve(specifier, context, nextResolve) {
  if (hidden.some((name) => specifier === name || specifier.startsWith(`${name}/`))) {
    const err = new Error(`Cannot find package '${specifier}' imported from ${context.parentURL}`);
    err.code = 'ERR_MODULE_NOT_FOUND';
    throw err;
  }
  return nextResolve(specifier, context);
}
