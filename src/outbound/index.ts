export { OutboundClient } from './outbound-client.js';
export type {
  OutboundOptions,
  OutboundRequest,
  OutboundResponse,
  ResolvedAddress,
} from './outbound-client.js';
export { AllowList, parseOutboundUrl } from './url-rule.js';
export { addressProblem, classifyAddress } from './address-rule.js';
export type { AddressKind } from './address-rule.js';
export { OutboundError } from './outbound-error.js';
export { hostOf } from './host-of.js';
export type { OutboundErrorCode } from './outbound-error.js';
