export { AttachmentsService } from './attachments-service.js';
export type { AttachmentsDeps, Upload } from './attachments-service.js';
export { memberWindowOf } from './member-window.js';
export type { MemberWindow, MemberWindowOf } from './member-window.js';
export { registerAttachmentRoutes, attachmentView, parseRange } from './attachments-routes.js';
export type { AttachmentRoutesDeps } from './attachments-routes.js';
export type { Attachment, AttachmentStore, AttachmentUse } from './attachment-store.js';
export type { BlobStore, BlobStat, ByteRange, PutResult } from './blob-store.js';
export { isAllowedType, normalizeMediaType } from './media-types.js';
