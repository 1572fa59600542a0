// The contacts dialog: ask someone to be a contact (with a note), answer and withdraw requests,
// message, remove or block a contact, and unblock. The lists come from the REST API when the
// dialog opens and follow `contact` pushes while it is open (chat-store.ts, Contacts).
import { useEffect, useState } from 'preact/hooks';
import type { ContactEntry } from 'parley/sdk';
import type { ChatStore } from './chat-store.js';
import type { ContactAction } from './store/index.js';
import { Avatar } from './avatar.js';
import { Modal, UsernameInput } from './dialogs.js';

/** A button of one entry: what it does, and the accessible name that says to whom. */
interface EntryAction {
  readonly label: string;
  readonly run: (username: string) => void;
}

function EntryList(props: {
  store: ChatStore;
  title: string;
  empty: string;
  entries: readonly ContactEntry[];
  actions: readonly EntryAction[];
}) {
  const headingId = `contacts-${props.title.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <section aria-labelledby={headingId}>
      <h3 id={headingId}>
        {props.title} ({props.entries.length})
      </h3>
      {props.entries.length === 0 ? (
        <p class="hint">{props.empty}</p>
      ) : (
        <ul class="members">
          {props.entries.map((e) => (
            <li class="member" key={e.user.id}>
              <Avatar store={props.store} username={e.user.username} class="small" />
              <span class="member-name">
                {e.user.username}
                {e.note && <span class="contact-note"> “{e.note}”</span>}
              </span>
              <span class="member-actions">
                {props.actions.map((a) => (
                  <button
                    type="button"
                    key={a.label}
                    aria-label={`${a.label} ${e.user.username}`}
                    onClick={() => a.run(e.user.username)}
                  >
                    {a.label}
                  </button>
                ))}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function ContactsDialog(props: {
  store: ChatStore;
  onClose: () => void;
  onOpened: (id: string) => void;
}) {
  const { store } = props;
  const [username, setUsername] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => void store.loadContacts(), [store]);
  const lists = store.contactLists;

  const act = (action: ContactAction) => (name: string) => {
    if (action === 'remove' && !confirm(`Remove ${name} from your contacts?`)) return;
    if (action === 'block' && !confirm(`Block ${name}? Neither of you can message the other.`)) {
      return;
    }
    void store.contactAction(action, name);
  };
  const message = async (name: string) => {
    const id = await store.startDirect(name);
    if (id) props.onOpened(id);
  };
  const ask = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const done = await store.contactAction('request', username, note);
    setBusy(false);
    if (done) {
      setUsername('');
      setNote('');
    }
  };

  return (
    <Modal store={props.store} title="Contacts" onClose={props.onClose}>
      <div class="settings">
        <form class="dialog-form" onSubmit={(e) => void ask(e)}>
          <label for="contact-username">Add a contact</label>
          <UsernameInput
            store={store}
            id="contact-username"
            placeholder="username"
            value={username}
            onInput={setUsername}
          />
          <label for="contact-note">Note (optional)</label>
          <input
            id="contact-note"
            maxLength={200}
            value={note}
            onInput={(e) => setNote(e.currentTarget.value)}
          />
          <div class="row end">
            <button type="submit" class="primary" disabled={busy || username.trim() === ''}>
              Send request
            </button>
          </div>
        </form>
        {lists === null ? (
          <p class="hint" role="status">
            Loading…
          </p>
        ) : (
          <>
            <EntryList
              store={store}
              title="Requests to you"
              empty="No requests."
              entries={lists.incoming}
              actions={[
                { label: 'Accept', run: act('accept') },
                { label: 'Decline', run: act('decline') },
              ]}
            />
            <EntryList
              store={store}
              title="Your contacts"
              empty="No contacts yet."
              entries={lists.contacts}
              actions={[
                { label: 'Message', run: (name) => void message(name) },
                { label: 'Remove', run: act('remove') },
                { label: 'Block', run: act('block') },
              ]}
            />
            <EntryList
              store={store}
              title="Requests you sent"
              empty="None waiting."
              entries={lists.outgoing}
              actions={[{ label: 'Cancel request', run: act('cancel') }]}
            />
            <EntryList
              store={store}
              title="Blocked"
              empty="Nobody."
              entries={lists.blocked}
              actions={[{ label: 'Unblock', run: act('unblock') }]}
            />
          </>
        )}
      </div>
    </Modal>
  );
}
