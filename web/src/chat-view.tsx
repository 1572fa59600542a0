// One open conversation: header (title, presence or member count, group settings), the timeline
// with infinite scroll back through history, the typing line and the composer.
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ChatStore, ConversationView, MessageView } from './chat-store.js';
import { Composer } from './composer.js';
import { GroupSettings } from './group-settings.js';
import { MessageItem, PendingItem, messageDomId } from './message-item.js';
import { navigate } from './router.js';

export function ChatView(props: { store: ChatStore; id: string }) {
  const { store, id } = props;
  const c = store.conversations.get(id);
  const [replyTo, setReplyTo] = useState<MessageView | null>(null);
  const [editing, setEditing] = useState<MessageView | null>(null);
  const [settings, setSettings] = useState(false);

  if (!c) {
    return (
      <section class="chat">
        <header class="chat-head">
          <BackButton />
          <h2 id="chat-title">Loading…</h2>
        </header>
      </section>
    );
  }
  const online = c.peer !== null && store.presence.get(c.peer) === true;
  const peerName = c.peer !== null ? store.names.get(c.peer) : undefined;
  const peerProfile = peerName !== undefined ? store.profile(peerName) : undefined;
  const typing = store.typingIn(id);
  return (
    <section class="chat" aria-labelledby="chat-title">
      <header class="chat-head">
        <BackButton />
        <div class="chat-title-block">
          <h2 id="chat-title">{c.title}</h2>
          {peerProfile?.displayName && (
            <p class="chat-sub profile-name" data-testid="peer-display-name">
              {peerProfile.displayName}
            </p>
          )}
          {c.peer !== null ? (
            <p
              class={`chat-sub presence ${online ? 'online' : 'offline'}`}
              data-testid="peer-presence"
            >
              {online ? 'online' : 'offline'}
            </p>
          ) : (
            <p class="chat-sub">
              {c.members ? `${c.members.size} members` : ''}
              {c.dismissed ? ' · closed' : ''}
            </p>
          )}
        </div>
        <button
          type="button"
          class="quiet pin"
          aria-pressed={c.pinned}
          title={c.pinned ? 'Unpin from the top of the list' : 'Pin to the top of the list'}
          onClick={() => void store.setPinned(c.id, !c.pinned)}
        >
          {c.pinned ? 'Unpin' : 'Pin'}
        </button>
        <button
          type="button"
          class="quiet pin"
          aria-pressed={c.notificationsMuted}
          title={
            c.notificationsMuted
              ? 'Notify me of new messages here again'
              : 'No notifications for this conversation'
          }
          onClick={() => void store.setNotificationsMuted(c.id, !c.notificationsMuted)}
        >
          {c.notificationsMuted ? 'Unmute' : 'Mute'}
        </button>
        {c.kind === 'group' && (
          <button type="button" onClick={() => setSettings(true)}>
            Group settings
          </button>
        )}
      </header>
      <Timeline
        store={store}
        c={c}
        onReply={(m) => {
          setEditing(null);
          setReplyTo(m);
        }}
        onEdit={(m) => {
          setReplyTo(null);
          setEditing(m);
        }}
      />
      <div class="typing" aria-live="polite" data-testid="typing">
        {typing.length > 0 && `${typing.join(', ')} ${typing.length === 1 ? 'is' : 'are'} typing…`}
      </div>
      <Composer
        store={store}
        c={c}
        replyTo={replyTo}
        editing={editing}
        onDone={() => {
          setReplyTo(null);
          setEditing(null);
        }}
      />
      {settings && <GroupSettings store={store} c={c} onClose={() => setSettings(false)} />}
    </section>
  );
}

function BackButton() {
  return (
    <button
      type="button"
      class="back"
      aria-label="Back to conversations"
      onClick={() => navigate(null)}
    >
      ←
    </button>
  );
}

interface TimelineProps {
  store: ChatStore;
  c: ConversationView;
  onReply: (m: MessageView) => void;
  onEdit: (m: MessageView) => void;
}

/** Loads older pages near the top and keeps the view still while they come in above it. */
function Timeline(props: TimelineProps) {
  const { store, c } = props;
  const t = store.timeline(c.id);
  const pending = store.pending(c.id);
  const scroller = useRef<HTMLDivElement>(null);
  const snap = useRef({ first: 0, height: 0, top: 0, count: 0, nearBottom: true });
  const bySeq = new Map(t.messages.map((m) => [m.seq, m]));

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const s = snap.current;
    const first = t.messages[0]?.seq ?? 0;
    const count = t.messages.length + pending.length;
    const lastMine = pending.length > 0 || t.messages.at(-1)?.sender === store.me.id;
    if (s.first !== 0 && first !== 0 && first < s.first) {
      el.scrollTop = s.top + (el.scrollHeight - s.height);
    } else if (count !== s.count && (s.nearBottom || lastMine)) {
      el.scrollTop = el.scrollHeight;
    }
    s.first = first;
    s.count = count;
    s.height = el.scrollHeight;
    s.top = el.scrollTop;
    s.nearBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    // A first page that does not fill the view: fetch more until it does.
    if (
      t.hasOlder &&
      !t.loadingOlder &&
      t.messages.length > 0 &&
      el.scrollHeight <= el.clientHeight
    ) {
      void store.loadOlder(c.id);
    }
  });

  // A search result to bring into view: once the timeline holds it, centred and marked a moment.
  const focus = store.focus;
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || !focus || focus.conversation !== c.id) return;
    const item = document.getElementById(messageDomId(c.id, focus.seq));
    if (!item) return;
    store.clearFocus();
    item.scrollIntoView({ block: 'center' });
    item.focus({ preventScroll: true });
    item.classList.add('found');
    setTimeout(() => item.classList.remove('found'), 2_500);
    const s = snap.current;
    s.top = el.scrollTop;
    s.height = el.scrollHeight;
    s.nearBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  });

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const s = snap.current;
    s.top = el.scrollTop;
    s.height = el.scrollHeight;
    s.nearBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    if (el.scrollTop < 200) void store.loadOlder(c.id);
  };

  return (
    <div class="timeline" ref={scroller} onScroll={onScroll} role="log" aria-label="Messages">
      <div class="timeline-inner">
        {t.hasOlder && t.messages.length > 0 && (
          <button
            type="button"
            class="load-older quiet"
            disabled={t.loadingOlder}
            onClick={() => void store.loadOlder(c.id)}
          >
            {t.loadingOlder ? 'Loading…' : 'Load older messages'}
          </button>
        )}
        {!t.hasOlder && t.messages.length > 0 && (
          <p class="timeline-start">The conversation starts here.</p>
        )}
        <ol class="messages">
          {t.messages.map((m) => (
            <MessageItem
              key={m.seq}
              store={store}
              c={c}
              m={m}
              quoted={typeof m.body.replyTo === 'number' ? bySeq.get(m.body.replyTo) : undefined}
              onReply={props.onReply}
              onEdit={props.onEdit}
            />
          ))}
          {pending.map((e) => (
            <PendingItem key={e.ref} store={store} entry={e} />
          ))}
        </ol>
      </div>
    </div>
  );
}
