// The shell: the login screen, or the chat (conversation list beside the open conversation, one
// at a time on a phone), the "reconnecting…" banner, notices and dialogs.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ChatStore } from './chat-store.js';
import type { Ending } from './store/index.js';
import { AuthScreen } from './auth-screen.js';
import { ConversationList } from './conversation-list.js';
import { ChatView } from './chat-view.js';
import { Avatar } from './avatar.js';
import { ContactsDialog } from './contacts-dialog.js';
import { ProfileDialog } from './profile-dialog.js';
import { AccountDialog } from './account-dialog.js';
import { SearchDialog } from './search-dialog.js';
import { JoinGroupDialog, NewDirectDialog, NewGroupDialog } from './dialogs.js';
import { clearSession, loadSession, saveSession, type Session } from './session.js';
import { navigate, useRoute } from './router.js';
import { SidebarActions } from './sidebar-menu.js';
import { useStore } from './use-store.js';

export function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const [ending, setEnding] = useState<Ending>(null);
  if (!session) {
    return (
      <AuthScreen
        notice={
          ending === 'expired'
            ? 'Your session ended. Please log in again.'
            : ending === 'deleted'
              ? 'Your account was deleted.'
              : null
        }
        onSession={(s) => {
          saveSession(s);
          setEnding(null);
          setSession(s);
        }}
      />
    );
  }
  return (
    <Chat
      key={session.token}
      session={session}
      onLoggedOut={(why) => {
        clearSession();
        setEnding(why);
        setSession(null);
        navigate(null);
      }}
    />
  );
}

type DialogName =
  'direct' | 'group' | 'join' | 'contacts' | 'profile' | 'account' | 'search' | null;

function Chat(props: { session: Session; onLoggedOut: (why: Ending) => void }) {
  const store = useMemo(
    () =>
      new ChatStore(props.session, (ending) => {
        if (ending === 'expired' || ending === 'deleted') props.onLoggedOut(ending);
      }),
    [props.session],
  );
  useEffect(() => {
    store.start();
    return () => void store.stop();
  }, [store]);
  useStore(store);
  const route = useRoute();
  useEffect(() => store.open(route), [store, route]);
  const [dialog, setDialog] = useState<DialogName>(null);
  useShortcuts(store, route, setDialog);
  // Unread messages in the tab's title, outside muted conversations.
  const unread = store.unreadTotal;
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Parley` : 'Parley';
  }, [unread]);
  const [permission, setPermission] = useState<NotificationPermission | 'unsupported'>(() =>
    typeof Notification === 'undefined' ? 'unsupported' : Notification.permission,
  );
  const askForNotifications = async () => {
    setPermission(await Notification.requestPermission());
  };

  // The sidebar's dialogs share their props: each closes itself, and opens what it made.
  const dialogProps = {
    store,
    onClose: () => setDialog(null),
    onOpened: (id: string) => {
      setDialog(null);
      navigate(id);
    },
  };

  const logout = async () => {
    await store.logout();
    props.onLoggedOut(null);
  };

  return (
    <main class={`app ${route ? 'has-chat' : 'has-list'}`}>
      <h1 class="visually-hidden">Parley</h1>
      {route && (
        <a class="skip-link" href="#composer-input">
          Skip to the message box
        </a>
      )}
      {store.bannerShown && (
        <div class="banner" role="status" data-testid="reconnecting">
          Reconnecting…
        </div>
      )}
      <aside class="sidebar" aria-label="Conversations">
        <header class="sidebar-head">
          <div class="me">
            <Avatar store={store} username={store.me.username} />
            <span class="me-name">{store.me.username}</span>
            <span class={`conn conn-${store.connection}`} title={`Connection: ${store.connection}`}>
              <span class="visually-hidden">Connection: {store.connection}</span>
            </span>
          </div>
          <SidebarActions
            onSearch={() => setDialog('search')}
            compose={[
              { label: 'New chat', run: () => setDialog('direct') },
              { label: 'New group', run: () => setDialog('group') },
              { label: 'Join with code', run: () => setDialog('join') },
            ]}
            menu={[
              { label: 'Contacts', run: () => setDialog('contacts') },
              { label: 'Profile', run: () => setDialog('profile') },
              { label: 'Account', run: () => setDialog('account') },
              { label: 'Log out', run: () => void logout(), quiet: true },
            ]}
          >
            {/* Shown while the browser has not asked: a prompt, not a menu item, as Slack does. */}
            {permission === 'default' && (
              <button type="button" onClick={() => void askForNotifications()}>
                Turn on notifications
              </button>
            )}
          </SidebarActions>
        </header>
        <ConversationList store={store} activeId={route} />
      </aside>
      <div class="main">
        {route ? (
          <ChatView key={route} store={store} id={route} />
        ) : (
          <div class="empty-main">
            <p>Pick a conversation, or start a new one.</p>
          </div>
        )}
      </div>
      <div class="notices" aria-live="assertive">
        {store.notices
          .filter((n) => n.dialog === undefined)
          .map((n) => (
            <div
              key={n.id}
              class={`notice notice-${n.kind}`}
              role={n.kind === 'error' ? 'alert' : 'status'}
            >
              <span>{n.text}</span>
              <button
                type="button"
                class="quiet"
                aria-label="Dismiss"
                onClick={() => store.dismissNotice(n.id)}
              >
                ×
              </button>
            </div>
          ))}
      </div>
      {dialog === 'direct' && <NewDirectDialog {...dialogProps} />}
      {dialog === 'group' && <NewGroupDialog {...dialogProps} />}
      {dialog === 'join' && <JoinGroupDialog {...dialogProps} />}
      {dialog === 'contacts' && <ContactsDialog {...dialogProps} />}
      {dialog === 'profile' && <ProfileDialog store={store} onClose={() => setDialog(null)} />}
      {dialog === 'account' && <AccountDialog store={store} onClose={() => setDialog(null)} />}
      {dialog === 'search' && <SearchDialog store={store} onClose={() => setDialog(null)} />}
      {store.ending === 'kicked' && (
        <div class="overlay" role="alertdialog" aria-labelledby="kicked-title" aria-modal="true">
          <div class="overlay-box">
            <h2 id="kicked-title">Parley is open in another window</h2>
            <p>This browser's login is in use elsewhere. Use it here instead?</p>
            <div class="row">
              <button type="button" class="primary" onClick={() => store.useHere()} autoFocus>
                Use here
              </button>
              <button type="button" class="quiet" onClick={() => void logout()}>
                Log out
              </button>
            </div>
          </div>
        </div>
      )}
    </main>
  );
}

/**
 * The keyboard shortcuts (docs/web-client.md): Ctrl+K (Cmd+K) searches, as in Slack; Alt+↑ and
 * Alt+↓ open the conversation above or below the open one in the list, as in Slack and Element.
 * Escape is the dialogs' and menus' own.
 */
function useShortcuts(
  store: ChatStore,
  route: string | null,
  openDialog: (name: 'search') => void,
): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        openDialog('search');
        return;
      }
      if (!e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
      if (e.key !== 'ArrowUp' && e.key !== 'ArrowDown') return;
      const list = store.sortedConversations;
      const at = list.findIndex((c) => c.id === route);
      const step = e.key === 'ArrowUp' ? -1 : 1;
      const next = list[at < 0 ? 0 : Math.min(list.length - 1, Math.max(0, at + step))];
      e.preventDefault();
      if (next && next.id !== route) navigate(next.id);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [store, route, openDialog]);
}
