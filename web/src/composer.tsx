// The message box: Enter sends, Shift+Enter is a new line, Escape cancels a reply, an edit or a
// chosen file. A chosen image is previewed before it is sent.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ChatStore } from './chat-store.js';
import type { ConversationView, MessageView } from './store/index.js';
import { byteSize, previewOf } from './format.js';

interface ComposerProps {
  store: ChatStore;
  c: ConversationView;
  replyTo: MessageView | null;
  editing: MessageView | null;
  onDone: () => void;
}

export function Composer(props: ComposerProps) {
  const { store, c, replyTo, editing } = props;
  const [text, setText] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [uploading, setUploading] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  // Before the next paint: text typed right after choosing "Edit" must not be overwritten by a
  // late prefill.
  useLayoutEffect(() => {
    if (editing) setText(typeof editing.body.text === 'string' ? editing.body.text : '');
    if (editing || replyTo) input.current?.focus();
  }, [editing, replyTo]);

  useEffect(() => {
    if (!file || !file.type.startsWith('image/')) {
      setPreview(null);
      return;
    }
    const url = URL.createObjectURL(file);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [file]);

  const reset = () => {
    setText('');
    setFile(null);
    if (fileInput.current) fileInput.current.value = '';
    props.onDone();
  };

  const submit = async () => {
    const trimmed = text.trim();
    if (editing) {
      if (trimmed && trimmed !== editing.body.text) await store.edit(c.id, editing.seq, trimmed);
      reset();
      return;
    }
    if (file) {
      setUploading(true);
      try {
        await store.sendFile(c.id, file, trimmed, replyTo?.seq ?? null);
        reset();
      } catch (err) {
        store.notify(
          'error',
          `The file could not be sent: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      setUploading(false);
      input.current?.focus();
      return;
    }
    if (!trimmed) return;
    store.sendText(c.id, trimmed, replyTo?.seq ?? null);
    reset();
    input.current?.focus();
  };

  if (c.dismissed) {
    return <p class="composer-closed">This group was closed. Its history stays readable.</p>;
  }
  const peerName = c.peer !== null ? store.names.get(c.peer) : undefined;
  if (peerName !== undefined && store.isDeleted(peerName)) {
    return (
      <p class="composer-closed">{peerName} deleted their account. The history stays readable.</p>
    );
  }
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      {(replyTo || editing) && (
        <div class="composer-context">
          <span>
            {editing ? 'Editing' : `Replying to ${store.nameOf(replyTo?.sender ?? '')}`}:{' '}
            <span class="composer-context-text">
              {previewOf((editing ?? replyTo)?.body ?? { kind: 'text' }, store.nameOf)}
            </span>
          </span>
          <button
            type="button"
            class="quiet"
            onClick={reset}
            aria-label={editing ? 'Cancel the edit' : 'Cancel the reply'}
          >
            ×
          </button>
        </div>
      )}
      {file && (
        <div class="composer-file">
          {preview ? (
            <img class="file-preview" src={preview} alt={`Preview of ${file.name}`} />
          ) : (
            <span class="file-chip">
              <PaperclipIcon />
            </span>
          )}
          <span class="file-name">
            {file.name} · {byteSize(file.size)}
          </span>
          <button
            type="button"
            class="quiet"
            aria-label="Remove the file"
            onClick={() => {
              setFile(null);
              if (fileInput.current) fileInput.current.value = '';
            }}
          >
            ×
          </button>
        </div>
      )}
      <div class="composer-row">
        <input
          ref={fileInput}
          id="composer-file"
          type="file"
          class="visually-hidden"
          tabIndex={-1}
          aria-label="Attach a file"
          onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
        />
        {!editing && (
          <button
            type="button"
            class="attach"
            aria-label="Attach a file"
            title="Attach a file"
            onClick={() => fileInput.current?.click()}
          >
            <PaperclipIcon />
          </button>
        )}
        <label for="composer-input" class="visually-hidden">
          {file ? 'Caption' : 'Message'}
        </label>
        <textarea
          ref={input}
          id="composer-input"
          rows={1}
          placeholder={file ? 'Add a caption (optional)' : 'Message'}
          value={text}
          maxLength={16000}
          onInput={(e) => {
            setText(e.currentTarget.value);
            if (e.currentTarget.value) store.typing(c.id);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              void submit();
            } else if (e.key === 'Escape' && (replyTo || editing || file)) {
              e.preventDefault();
              reset();
            }
          }}
        />
        <button type="submit" class="primary send" disabled={uploading}>
          {uploading ? 'Uploading…' : editing ? 'Save' : 'Send'}
        </button>
      </div>
    </form>
  );
}

/** A paperclip drawn in SVG: emoji fonts are not everywhere (Debian's Chromium has none). */
export function PaperclipIcon() {
  return (
    <svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d="M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l7.9-7.9" />
    </svg>
  );
}
