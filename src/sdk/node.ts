// `parley/sdk/node`: the parts of the SDK that need Node, kept out of `parley/sdk` so that browser
// bundles never import node:*. Everything else comes from `parley/sdk`.
export { FileOutbox } from './file-outbox.js';
