export { AttachmentsService } from './attachments-service.js';
export type { AttachmentsDeps, MemberUntil, Upload } from './attachments-service.js';
export { registerAttachmentRoutes, attachmentView, parseRange } from './attachments-routes.js';
export type { AttachmentRoutesDeps } from './attachments-routes.js';
export type { Attachment, AttachmentStore, AttachmentUse } from './attachment-store.js';
export type { BlobStore, BlobStat, ByteRange, PutResult } from './blob-store.js';
export { isAllowedType, normalizeMediaType } from './media-types.js';
