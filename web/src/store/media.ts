// What the browser can tell about a file before it is uploaded: a safe name, an image's size,
// an audio or video file's length. Kept apart from the store because it touches the DOM.

/** Attachment names may not hold slashes or control characters (docs/attachments.md). */
export function safeName(name: string): string {
  // eslint-disable-next-line no-control-regex
  return name.replace(/[\u0000-\u001f\u007f/\\]/g, '_').slice(0, 255) || 'file';
}

/**
 * An audio or video file's length (and a video's size), read by the browser's own player, so the
 * message can show them before anything is downloaded. Empty when it cannot tell within 5 s.
 */
export async function mediaMeta(
  file: File,
  kind: 'audio' | 'video',
): Promise<{ durationMs?: number; width?: number; height?: number }> {
  const url = URL.createObjectURL(file);
  const el = document.createElement(kind);
  el.preload = 'metadata';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no metadata within 5 s')), 5_000);
      el.onloadedmetadata = () => {
        clearTimeout(timer);
        resolve();
      };
      el.onerror = () => {
        clearTimeout(timer);
        reject(new Error('not playable here'));
      };
      el.src = url;
    });
    const meta: { durationMs?: number; width?: number; height?: number } = {};
    if (Number.isFinite(el.duration) && el.duration >= 0) {
      meta.durationMs = Math.round(el.duration * 1000);
    }
    if (el instanceof HTMLVideoElement && el.videoWidth > 0 && el.videoHeight > 0) {
      meta.width = el.videoWidth;
      meta.height = el.videoHeight;
    }
    return meta;
  } catch (err) {
    console.warn('parley: media metadata', err);
    return {};
  } finally {
    el.removeAttribute('src');
    URL.revokeObjectURL(url);
  }
}

export async function imageSize(file: File): Promise<{ width?: number; height?: number }> {
  try {
    const bitmap = await createImageBitmap(file);
    const size = { width: bitmap.width, height: bitmap.height };
    bitmap.close();
    return size.width > 0 && size.height > 0 ? size : {};
  } catch (err) {
    // Not decodable here (an exotic format): sent without a size, shown when it loads.
    console.warn('parley: image size', err);
    return {};
  }
}
