// One message in a timeline: sender, reply quote, body (text, image preview, file, …), time,
// ticks, reactions, and a menu of actions (reply, react, forward, edit, recall) behind one button, so that
// the keyboard reaches each message's actions with one tab stop.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { AnyBody as Body, OutboxEntry } from 'parley/sdk';
import { Avatar } from './avatar.js';
import type { ChatStore } from './chat-store.js';
import type { ConversationView, MessageView, TickState } from './store/index.js';
import { Modal } from './dialogs.js';
import { fullTime, previewOf, shortTime, systemText } from './format.js';
import { RichText } from './rich-text.js';
import { navigate } from './router.js';

export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢'];
/** The server's default windows (PARLEY_RECALL_WINDOW_MS, PARLEY_EDIT_WINDOW_MS); it has the last word. */
const RECALL_WINDOW_MS = 120_000;
const EDIT_WINDOW_MS = 15 * 60_000;

const TICK_LABEL: Record<TickState, string> = {
  sending: 'Sending…',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
};
const TICK_MARK: Record<TickState, string> = {
  sending: '◷',
  sent: '✓',
  delivered: '✓✓',
  read: '✓✓',
};

export function messageDomId(conversation: string, seq: number): string {
  return `m-${conversation}-${seq}`;
}

export function Tick(props: { state: TickState }) {
  return (
    <span
      class={`tick tick-${props.state}`}
      data-tick={props.state}
      title={TICK_LABEL[props.state]}
      role="img"
      aria-label={TICK_LABEL[props.state]}
    >
      {TICK_MARK[props.state]}
    </span>
  );
}

interface ItemProps {
  store: ChatStore;
  c: ConversationView;
  m: MessageView;
  quoted: MessageView | undefined;
  onReply: (m: MessageView) => void;
  onEdit: (m: MessageView) => void;
}

export function MessageItem(props: ItemProps) {
  const { store, c, m } = props;
  // Deleted for me: the seq stays (paging, gaps), the message is not shown.
  if (m.body.kind === 'hidden') return null;
  if (m.body.kind === 'system') {
    return (
      <li class="message system" id={messageDomId(c.id, m.seq)} data-seq={m.seq}>
        {systemText(m.body, store.nameOf)}
      </li>
    );
  }
  const mine = m.sender === store.me.id;
  const replyTo = typeof m.body.replyTo === 'number' ? m.body.replyTo : null;
  return (
    <li
      class={`message ${mine ? 'mine' : 'theirs'} ${m.recalled ? 'recalled' : ''}`}
      id={messageDomId(c.id, m.seq)}
      data-seq={m.seq}
      tabIndex={-1}
    >
      <div class="bubble">
        {!mine && c.kind !== 'direct' && (
          <div class="sender-line">
            {store.names.has(m.sender) && (
              <Avatar store={store} username={store.nameOf(m.sender)} class="tiny" />
            )}
            <span class="sender">{store.nameOf(m.sender)}</span>
          </div>
        )}
        {replyTo !== null && !m.recalled && (
          <Quote store={store} c={c} seq={replyTo} quoted={props.quoted} />
        )}
        {m.body.forwardedFrom !== undefined && !m.recalled && (
          <div class="forwarded">Forwarded</div>
        )}
        <BodyView store={store} body={m.body} />
        <div class="meta">
          {m.editedAt !== null && !m.recalled && <span class="edited">edited</span>}
          <time dateTime={new Date(m.at).toISOString()} title={fullTime(m.at)}>
            {shortTime(m.at)}
          </time>
          {mine && !m.recalled && <Tick state={store.tickOf(c, m.seq)} />}
        </div>
        {m.reactions.length > 0 && (
          <div class="reactions" aria-label="Reactions">
            {m.reactions.map((r) => (
              <button
                key={r.emoji}
                type="button"
                class={`reaction ${r.me ? 'me' : ''}`}
                aria-pressed={r.me}
                aria-label={`${r.emoji} ${r.count}${r.me ? ', including you' : ''}`}
                onClick={() => void store.react(c.id, m.seq, r.emoji)}
              >
                {r.emoji} {r.count}
              </button>
            ))}
          </div>
        )}
      </div>
      {!m.recalled && <Actions {...props} mine={mine} />}
    </li>
  );
}

/** A message still in the outbox: shown at the end, with a clock until the server stores it. */
export function PendingItem(props: { store: ChatStore; entry: OutboxEntry }) {
  return (
    <li class="message mine pending" data-ref={props.entry.ref}>
      <div class="bubble">
        <BodyView store={props.store} body={props.entry.body} />
        <div class="meta">
          <Tick state="sending" />
        </div>
      </div>
    </li>
  );
}

function Quote(props: {
  store: ChatStore;
  c: ConversationView;
  seq: number;
  quoted: MessageView | undefined;
}) {
  const q = props.quoted;
  const jump = () => {
    const el = document.getElementById(messageDomId(props.c.id, props.seq));
    el?.scrollIntoView({ block: 'center' });
    el?.focus();
  };
  return (
    // The name starts with what is seen (WCAG 2.5.3, label in name); the hidden words say where
    // the button goes.
    <button type="button" class="quote" onClick={jump}>
      <span class="visually-hidden">Replying to </span>
      <span class="quote-sender">{q ? props.store.nameOf(q.sender) : 'Earlier message'}</span>
      <span class="visually-hidden">: </span>
      <span class="quote-text">{q ? previewOf(q.body, props.store.nameOf) : `#${props.seq}`}</span>
    </button>
  );
}

function Actions(props: ItemProps & { mine: boolean }) {
  const { store, c, m, mine } = props;
  const [open, setOpen] = useState(false);
  const [forwarding, setForwarding] = useState(false);
  const toggle = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  // The menu opens upward; where that would put it under the header (the top messages) it
  // opens downward instead, whichever side of the timeline has room for it.
  const [below, setBelow] = useState(false);
  useLayoutEffect(() => {
    const el = menu.current;
    const view = el?.closest('.timeline')?.getBoundingClientRect();
    const at = toggle.current?.getBoundingClientRect();
    if (!el || !view || !at) return;
    const roomAbove = at.top - view.top;
    setBelow(roomAbove < el.offsetHeight && view.bottom - at.bottom > roomAbove);
  }, [open]);
  useEffect(() => {
    if (open) menu.current?.querySelector<HTMLButtonElement>('button')?.focus();
  }, [open]);
  const close = () => {
    setOpen(false);
    toggle.current?.focus();
  };
  const canEdit = mine && m.body.kind === 'text' && Date.now() - m.at < EDIT_WINDOW_MS;
  const canRecall = mine && Date.now() - m.at < RECALL_WINDOW_MS;
  return (
    <div class="actions">
      <button
        ref={toggle}
        type="button"
        class="actions-toggle"
        aria-label="Message actions"
        aria-haspopup="true"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        ⋯
      </button>
      {open && (
        <div
          ref={menu}
          class={`actions-menu ${below ? 'below' : ''}`}
          role="group"
          aria-label="Message actions"
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.stopPropagation();
              close();
            }
          }}
        >
          <div class="emoji-row">
            {QUICK_REACTIONS.map((emoji) => (
              <button
                key={emoji}
                type="button"
                aria-label={`React with ${emoji}`}
                onClick={() => {
                  void store.react(c.id, m.seq, emoji);
                  close();
                }}
              >
                {emoji}
              </button>
            ))}
          </div>
          <button
            type="button"
            onClick={() => {
              setOpen(false);
              props.onReply(m);
            }}
          >
            Reply
          </button>
          {!m.recalled && (
            <button
              type="button"
              onClick={() => {
                setOpen(false);
                setForwarding(true);
              }}
            >
              Forward
            </button>
          )}
          {canEdit && (
            <button
              type="button"
              onClick={() => {
                setOpen(false);
                props.onEdit(m);
              }}
            >
              Edit
            </button>
          )}
          <button
            type="button"
            onClick={() => {
              close();
              void store.hide(c.id, m.seq);
            }}
          >
            Delete for me
          </button>
          {canRecall && (
            <button
              type="button"
              class="danger"
              onClick={() => {
                close();
                void store.recall(c.id, m.seq);
              }}
            >
              Recall
            </button>
          )}
        </div>
      )}
      {forwarding && (
        <ForwardDialog
          store={store}
          from={c}
          m={m}
          onClose={() => {
            setForwarding(false);
            toggle.current?.focus();
          }}
        />
      )}
    </div>
  );
}

/** Picks the conversation a message is forwarded to; the chat then opens there. */
function ForwardDialog(props: {
  store: ChatStore;
  from: ConversationView;
  m: MessageView;
  onClose: () => void;
}) {
  const { store, from, m } = props;
  const targets = store.sortedConversations.filter((t) => !t.dismissed);
  return (
    <Modal store={props.store} title="Forward to" onClose={props.onClose}>
      <p class="hint">{previewOf(m.body, store.nameOf)}</p>
      <ul class="forward-targets">
        {targets.map((t) => (
          <li key={t.id}>
            <button
              type="button"
              onClick={() => {
                store.forward(from.id, m, t.id);
                props.onClose();
                navigate(t.id);
              }}
            >
              {t.title}
            </button>
          </li>
        ))}
      </ul>
    </Modal>
  );
}

export function BodyView(props: { store: ChatStore; body: Body }) {
  const { body, store } = props;
  const caption = typeof body.caption === 'string' ? body.caption : null;
  switch (body.kind) {
    case 'text':
      return <RichText text={typeof body.text === 'string' ? body.text : ''} />;
    case 'recalled':
      return <p class="text recalled-text">This message was recalled.</p>;
    case 'image':
      return (
        <>
          <AttachmentImage store={store} body={body} />
          {caption && <RichText class="caption" text={caption} />}
        </>
      );
    case 'audio':
    case 'video':
      return (
        <>
          <AttachmentMedia store={store} body={body} />
          {caption && <RichText class="caption" text={caption} />}
        </>
      );
    case 'file':
      return (
        <>
          <AttachmentFile store={store} body={body} />
          {caption && <RichText class="caption" text={caption} />}
        </>
      );
    case 'location': {
      const label = typeof body.label === 'string' ? body.label : 'Location';
      return (
        <p class="text">
          📍 {label} ({String(body.lat)}, {String(body.lng)})
        </p>
      );
    }
    default:
      return <p class="text unknown">{previewOf(body, store.nameOf)}</p>;
  }
}

function useAttachmentUrl(store: ChatStore, id: string | null) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (id === null) return;
    let live = true;
    store.attachmentUrl(id).then(
      (u) => live && setUrl(u),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [store, id]);
  return { url, failed };
}

function AttachmentImage(props: { store: ChatStore; body: Body }) {
  const id = typeof props.body.attachment === 'string' ? props.body.attachment : null;
  const { url, failed } = useAttachmentUrl(props.store, id);
  const w = typeof props.body.width === 'number' ? props.body.width : undefined;
  const h = typeof props.body.height === 'number' ? props.body.height : undefined;
  const ratio = w && h ? `${w} / ${h}` : '4 / 3';
  const alt = typeof props.body.caption === 'string' ? props.body.caption : 'Image';
  if (failed) return <p class="text unknown">The image could not be loaded.</p>;
  if (!url) {
    return (
      <div class="image-placeholder" style={{ aspectRatio: ratio }} aria-busy="true">
        Loading image…
      </div>
    );
  }
  return (
    <a class="image-link" href={url} target="_blank" rel="noopener">
      <img
        class="image-preview"
        src={url}
        alt={alt}
        width={w}
        height={h}
        style={{ aspectRatio: ratio }}
      />
    </a>
  );
}

/**
 * An audio or video message as the browser's own player (its controls are keyboard-usable), from
 * a blob: URL since downloads need the bearer token. A video reserves its size when the message
 * says it; one that cannot be fetched falls back to the download button.
 */
function AttachmentMedia(props: { store: ChatStore; body: Body }) {
  const { body } = props;
  const id = typeof body.attachment === 'string' ? body.attachment : null;
  const { url, failed } = useAttachmentUrl(props.store, id);
  if (failed || id === null) return <AttachmentFile store={props.store} body={body} />;
  const seconds =
    typeof body.durationMs === 'number' ? ` (${Math.round(body.durationMs / 1000)} s)` : '';
  if (body.kind === 'audio') {
    return url ? (
      <audio
        class="media audio"
        controls
        preload="metadata"
        src={url}
        aria-label={`Audio message${seconds}`}
      />
    ) : (
      <div class="media loading">Loading audio…</div>
    );
  }
  const width = typeof body.width === 'number' ? body.width : undefined;
  const height = typeof body.height === 'number' ? body.height : undefined;
  return url ? (
    <video
      class="media video"
      controls
      preload="metadata"
      src={url}
      width={width}
      height={height}
      aria-label={`Video${seconds}`}
    />
  ) : (
    <div
      class="media loading"
      style={width && height ? { aspectRatio: `${width} / ${height}` } : undefined}
    >
      Loading video…
    </div>
  );
}

function AttachmentFile(props: { store: ChatStore; body: Body }) {
  const id = typeof props.body.attachment === 'string' ? props.body.attachment : null;
  const name =
    typeof props.body.name === 'string' ? props.body.name : `${props.body.kind} attachment`;
  const [busy, setBusy] = useState(false);
  const open = async () => {
    if (id === null) return;
    setBusy(true);
    try {
      const url = await props.store.attachmentUrl(id);
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      a.click();
    } catch (err) {
      props.store.notify('error', 'The file could not be downloaded.');
      console.warn('parley: download', err);
    }
    setBusy(false);
  };
  const icon = props.body.kind === 'audio' ? '🎵' : props.body.kind === 'video' ? '🎬' : '📎';
  return (
    <button type="button" class="file-chip" onClick={() => void open()} disabled={busy}>
      <span aria-hidden="true">{icon}</span> <span class="file-name">{name}</span>
      <span class="visually-hidden">, download</span>
    </button>
  );
}
