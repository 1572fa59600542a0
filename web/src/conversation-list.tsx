// The conversation list: title, presence, last message, time, unread count and mentions, newest
// activity first. It updates live from the store.
import { Avatar } from './avatar.js';
import type { ChatStore } from './chat-store.js';
import type { ConversationView } from './store/index.js';
import { previewOf, shortTime } from './format.js';
import { navigate } from './router.js';

export function ConversationList(props: { store: ChatStore; activeId: string | null }) {
  const { store } = props;
  const list = store.sortedConversations;
  if (!store.loaded && list.length === 0) {
    return <p class="list-empty">Loading…</p>;
  }
  if (list.length === 0) {
    return <p class="list-empty">No conversations yet. Start one with “New chat”.</p>;
  }
  return (
    <nav aria-label="Conversation list">
      <ul class="conversations">
        {list.map((c) => (
          <Row key={c.id} store={store} c={c} active={c.id === props.activeId} />
        ))}
      </ul>
    </nav>
  );
}

function Row(props: { store: ChatStore; c: ConversationView; active: boolean }) {
  const { store, c } = props;
  const unread = store.unreadOf(c);
  const online = c.peer !== null && store.presence.get(c.peer) === true;
  // A direct chat shows the peer's picture once its name is known.
  const peerName = c.peer !== null ? store.names.get(c.peer) : undefined;
  const last = c.last;
  let preview = last ? previewOf(last.body, store.nameOf) : 'No messages yet';
  if (last && c.kind !== 'direct' && last.body.kind !== 'system') {
    preview = `${last.sender === store.me.id ? 'You' : store.nameOf(last.sender)}: ${preview}`;
  } else if (last && last.sender === store.me.id && last.body.kind !== 'system') {
    preview = `You: ${preview}`;
  }
  return (
    <li class={`conversation ${props.active ? 'active' : ''}`} data-conversation={c.id}>
      <a
        href={`/c/${encodeURIComponent(c.id)}`}
        aria-current={props.active ? 'page' : undefined}
        onClick={(e) => {
          if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
          e.preventDefault();
          navigate(c.id);
        }}
      >
        {peerName !== undefined ? (
          <Avatar store={store} username={peerName} class={c.kind}>
            <span class={`presence-dot ${online ? 'online' : 'offline'}`} />
          </Avatar>
        ) : (
          <span class={`avatar ${c.kind}`} aria-hidden="true">
            {c.kind === 'group' ? '#' : c.title.slice(0, 1).toUpperCase()}
            {c.peer !== null && <span class={`presence-dot ${online ? 'online' : 'offline'}`} />}
          </span>
        )}
        <span class="conversation-text">
          <span class="conversation-top">
            <span class="conversation-title">
              {c.pinned && (
                <span class="pinned" title="Pinned" aria-label="Pinned">
                  📌{' '}
                </span>
              )}
              {c.title}
            </span>
            {c.peer !== null && (
              <span class="visually-hidden">{online ? ', online' : ', offline'}</span>
            )}
            {c.lastAt > 0 && <time class="conversation-time">{shortTime(c.lastAt)}</time>}
          </span>
          <span class="conversation-bottom">
            <span class="conversation-preview">{preview}</span>
            {c.mentions > 0 && (
              <span
                class="badge mention"
                title="You were mentioned"
                aria-label={`${c.mentions} mentions`}
              >
                @
              </span>
            )}
            {unread > 0 && (
              <span class="badge unread" data-testid="unread" aria-label={`${unread} unread`}>
                {unread}
              </span>
            )}
          </span>
        </span>
      </a>
    </li>
  );
}
