// Modal dialogs on the native <dialog> element (focus is kept inside, Escape closes it), and the
// two that start conversations: a direct chat by username, and a group with members.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChatStore } from './chat-store.js';

export function Modal(props: {
  store: ChatStore;
  title: string;
  onClose: () => void;
  children: ComponentChildren;
}) {
  const { store } = props;
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = `dialog-${props.title.replace(/\W+/g, '-').toLowerCase()}`;
  // What goes wrong while the dialog is open is said inside it, in front of the backdrop.
  const [scope] = useState(() => store.openDialog());
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => {
      d?.close();
      store.closeDialog(scope);
    };
  }, [store, scope]);
  const notices = store.notices.filter((n) => n.dialog === scope);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby={titleId} onClose={props.onClose}>
      <div class="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" class="quiet" aria-label="Close" onClick={props.onClose}>
          ×
        </button>
      </div>
      {notices.map((n) => (
        <p
          key={n.id}
          class={`dialog-notice notice-${n.kind}`}
          role={n.kind === 'error' ? 'alert' : 'status'}
        >
          {n.text}
        </p>
      ))}
      {props.children}
    </dialog>
  );
}

/** Usernames that start with what was typed, for a <datalist>. */
export function useUserSuggestions(store: ChatStore, prefix: string): string[] {
  const [found, setFound] = useState<string[]>([]);
  useEffect(() => {
    const p = prefix.trim();
    if (p.length === 0) {
      setFound([]);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      void store.searchUsers(p).then((users) => live && setFound(users));
    }, 200);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [store, prefix]);
  return found;
}

/** A required username field, focused, with the user search's matches as suggestions. */
export function UsernameInput(props: {
  store: ChatStore;
  id: string;
  value: string;
  onInput: (value: string) => void;
  placeholder?: string;
}) {
  const suggestions = useUserSuggestions(props.store, props.value);
  return (
    <>
      <input
        id={props.id}
        list={`${props.id}-suggestions`}
        placeholder={props.placeholder}
        autoComplete="off"
        autoCapitalize="none"
        spellcheck={false}
        required
        autoFocus
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
      <datalist id={`${props.id}-suggestions`}>
        {suggestions.map((u) => (
          <option key={u} value={u} />
        ))}
      </datalist>
    </>
  );
}

export function NewDirectDialog(props: {
  store: ChatStore;
  onClose: () => void;
  onOpened: (id: string) => void;
}) {
  const [username, setUsername] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const id = await props.store.startDirect(username);
    setBusy(false);
    if (id) props.onOpened(id);
  };
  return (
    <Modal store={props.store} title="New chat" onClose={props.onClose}>
      <form class="dialog-form" onSubmit={(e) => void submit(e)}>
        <label for="direct-username">Username</label>
        <UsernameInput
          store={props.store}
          id="direct-username"
          value={username}
          onInput={setUsername}
        />
        <div class="row end">
          <button type="button" class="quiet" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            Start chat
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** Splits "bob, carol dave" into usernames. */
export function parseUsernames(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[\s,;]+/)
        .map((u) => u.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
}

export function NewGroupDialog(props: {
  store: ChatStore;
  onClose: () => void;
  onOpened: (id: string) => void;
}) {
  const [title, setTitle] = useState('');
  const [members, setMembers] = useState('');
  const [busy, setBusy] = useState(false);
  const typed = members.split(/[\s,;]+/).at(-1) ?? '';
  const suggestions = useUserSuggestions(props.store, typed);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const id = await props.store.createGroup(title.trim(), parseUsernames(members));
    setBusy(false);
    if (id) props.onOpened(id);
  };
  return (
    <Modal store={props.store} title="New group" onClose={props.onClose}>
      <form class="dialog-form" onSubmit={(e) => void submit(e)}>
        <label for="group-title">Group name</label>
        <input
          id="group-title"
          required
          maxLength={128}
          autoFocus
          value={title}
          onInput={(e) => setTitle(e.currentTarget.value)}
        />
        <label for="group-members">Members</label>
        <input
          id="group-members"
          aria-describedby="group-members-hint"
          autoComplete="off"
          autoCapitalize="none"
          spellcheck={false}
          value={members}
          onInput={(e) => setMembers(e.currentTarget.value)}
        />
        <p id="group-members-hint" class="hint">
          Usernames, separated by commas or spaces.
          {suggestions.length > 0 && ` Matches: ${suggestions.join(', ')}`}
        </p>
        <div class="row end">
          <button type="button" class="quiet" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            Create group
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** Joins a group with an invite code that an admin of the group handed out. */
export function JoinGroupDialog(props: {
  store: ChatStore;
  onClose: () => void;
  onOpened: (id: string) => void;
}) {
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const id = await props.store.joinWithCode(code);
    setBusy(false);
    if (id) props.onOpened(id);
  };
  return (
    <Modal store={props.store} title="Join a group" onClose={props.onClose}>
      <form class="dialog-form" onSubmit={(e) => void submit(e)}>
        <label for="join-code">Invite code</label>
        <input
          id="join-code"
          required
          maxLength={64}
          autoFocus
          autoComplete="off"
          autoCapitalize="none"
          spellcheck={false}
          value={code}
          onInput={(e) => setCode(e.currentTarget.value)}
        />
        <div class="row end">
          <button type="button" class="quiet" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy || code.trim() === ''}>
            Join group
          </button>
        </div>
      </form>
    </Modal>
  );
}
