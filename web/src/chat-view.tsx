// One open conversation: header (title, presence or member count, group settings), the timeline
// with infinite scroll back through history, the typing line and the composer.
import { useState } from 'preact/hooks';
import type { ChatStore } from './chat-store.js';
import type { MessageView } from './store/index.js';
import { Composer } from './composer.js';
import { GroupSettings } from './group-settings.js';
import { navigate } from './router.js';
import { Timeline } from './timeline.js';

export function ChatView(props: { store: ChatStore; id: string }) {
  const { store, id } = props;
  const c = store.conversations.get(id);
  const [replyTo, setReplyTo] = useState<MessageView | null>(null);
  const [editing, setEditing] = useState<MessageView | null>(null);
  const [settings, setSettings] = useState(false);

  if (store.unavailable.has(id)) return <Unavailable />;
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

/** An address of a conversation that does not exist, or that the user is not (or no more) in. */
function Unavailable() {
  return (
    <section class="chat" aria-labelledby="chat-title">
      <header class="chat-head">
        <BackButton />
        <h2 id="chat-title">Conversation not found</h2>
      </header>
      <div class="empty-main">
        <p>It does not exist, or you are not a member of it.</p>
        <button type="button" onClick={() => navigate(null)}>
          Back to conversations
        </button>
      </div>
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
