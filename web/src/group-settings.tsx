// A group's settings: its name, who may send and what new members may read, its members and their
// roles (with ownership transfer and member mutes), adding and removing members, its invite code,
// and leaving. Buttons appear only for what the user's role allows (docs/groups.md); the server
// checks again and its refusal shows as a notice.
import { useEffect, useState } from 'preact/hooks';
import type { HistoryVisibility, Role } from 'parley/sdk';
import { Avatar } from './avatar.js';
import type { ChatStore } from './chat-store.js';
import type { ConversationView, MemberView } from './store/index.js';
import { Modal, parseUsernames } from './dialogs.js';
import { navigate } from './router.js';

const RANK: Record<Role, number> = { owner: 3, admin: 2, member: 1 };

/**
 * A setting as shown: the admin's choice while it is being saved, until the group reloads with
 * it (or the change is refused), so that a re-render meanwhile does not flip the field back.
 */
function usePendingChoice<T>(saved: T): [T, (choice: T, saving: Promise<boolean>) => void] {
  const [pending, setPending] = useState<{ value: T; from: T } | null>(null);
  useEffect(() => {
    // The group reloaded with the choice, or with anything new (another admin's): it shows that.
    if (pending && (Object.is(pending.value, saved) || !Object.is(pending.from, saved))) {
      setPending(null);
    }
  }, [saved, pending]);
  const choose = (value: T, saving: Promise<boolean>) => {
    setPending({ value, from: saved });
    void saving.then((done) => {
      if (!done) setPending(null);
    });
  };
  return [pending ? pending.value : saved, choose];
}

export function GroupSettings(props: {
  store: ChatStore;
  c: ConversationView;
  onClose: () => void;
}) {
  const { store, c } = props;
  const myRole: Role = c.role ?? 'member';
  const admin = RANK[myRole] >= RANK.admin && !c.dismissed;
  const [title, setTitle] = useState(c.title);
  const [adding, setAdding] = useState('');
  const [mutedShown, chooseMuted] = usePendingChoice(c.groupMuted);
  const [historyShown, chooseHistory] = usePendingChoice(c.history);
  const members = [...(c.members?.values() ?? [])].sort(
    (a, b) => RANK[b.role] - RANK[a.role] || a.username.localeCompare(b.username),
  );

  const rename = async (e: Event) => {
    e.preventDefault();
    const t = title.trim();
    if (t && t !== c.title) await store.groupAction(c.id, (api) => api.groups.title(c.id, t));
  };
  const add = async (e: Event) => {
    e.preventDefault();
    const names = parseUsernames(adding);
    if (names.length === 0) return;
    if (await store.groupAction(c.id, (api) => api.groups.add(c.id, names))) setAdding('');
  };
  const leave = async () => {
    if (!confirm(`Leave “${c.title}”?`)) return;
    if (await store.leave(c.id)) {
      props.onClose();
      navigate(null);
    }
  };

  return (
    <Modal store={props.store} title="Group settings" onClose={props.onClose}>
      <div class="settings">
        {admin ? (
          <form class="dialog-form" onSubmit={(e) => void rename(e)}>
            <label for="settings-title">Group name</label>
            <div class="row">
              <input
                id="settings-title"
                value={title}
                maxLength={128}
                onInput={(e) => setTitle(e.currentTarget.value)}
              />
              <button type="submit">Rename</button>
            </div>
          </form>
        ) : (
          <p>
            <strong>{c.title}</strong>
          </p>
        )}
        {admin && (
          <fieldset class="dialog-form">
            <legend>Rules</legend>
            <label class="check">
              <input
                type="checkbox"
                checked={mutedShown}
                onChange={(e) => {
                  const muted = e.currentTarget.checked;
                  chooseMuted(
                    muted,
                    store.groupAction(c.id, (api) => api.groups.muteAll(c.id, muted)),
                  );
                }}
              />
              Only admins may send
            </label>
            <label for="settings-history">New members see</label>
            <select
              id="settings-history"
              value={historyShown}
              onChange={(e) => {
                const history = e.currentTarget.value as HistoryVisibility;
                chooseHistory(
                  history,
                  store.groupAction(c.id, (api) => api.groups.history(c.id, history)),
                );
              }}
            >
              <option value="join">messages from when they join</option>
              <option value="full">the whole history</option>
            </select>
          </fieldset>
        )}
        <h3>Members ({members.length})</h3>
        <ul class="members">
          {members.map((m) => (
            <MemberRow key={m.id} store={store} c={c} m={m} myRole={myRole} />
          ))}
        </ul>
        {admin && (
          <form class="dialog-form" onSubmit={(e) => void add(e)}>
            <label for="settings-add">Add members</label>
            <div class="row">
              <input
                id="settings-add"
                autoComplete="off"
                autoCapitalize="none"
                placeholder="usernames"
                value={adding}
                onInput={(e) => setAdding(e.currentTarget.value)}
              />
              <button type="submit">Add</button>
            </div>
          </form>
        )}
        {admin && <InviteCode store={store} c={c} />}
        <div class="row end">
          <button type="button" class="danger" onClick={() => void leave()}>
            Leave group
          </button>
        </div>
      </div>
    </Modal>
  );
}

function MemberRow(props: { store: ChatStore; c: ConversationView; m: MemberView; myRole: Role }) {
  const { store, c, m, myRole } = props;
  const me = m.id === store.me.id;
  const outranks = RANK[myRole] > RANK[m.role] && RANK[myRole] >= RANK.admin && !c.dismissed;
  const owner = myRole === 'owner' && !c.dismissed;
  const online = store.presence.get(m.id) === true;
  return (
    <li class="member">
      <Avatar store={store} username={m.username} class="small" />
      <span class="member-name">
        {m.username}
        {me && ' (you)'}
        {online && <span class="visually-hidden">, online</span>}
      </span>
      <span class={`role role-${m.role}`}>{m.role}</span>
      {m.muted && <span class="role">muted</span>}
      {!me && (owner || outranks) && (
        <span class="member-actions">
          {owner && m.role !== 'owner' && (
            <button
              type="button"
              onClick={() =>
                void store.groupAction(c.id, (api) =>
                  api.groups.role(c.id, m.id, m.role === 'admin' ? 'member' : 'admin'),
                )
              }
            >
              {m.role === 'admin' ? 'Make member' : 'Make admin'}
            </button>
          )}
          {owner && (
            <button
              type="button"
              onClick={() => {
                if (!confirm(`Make ${m.username} the owner? You will become an admin.`)) return;
                void store.groupAction(c.id, (api) => api.groups.role(c.id, m.id, 'owner'));
              }}
            >
              Make owner
            </button>
          )}
          {outranks && (
            <button
              type="button"
              aria-label={`${m.muted ? 'Unmute' : 'Mute'} ${m.username}`}
              onClick={() =>
                void store.groupAction(c.id, (api) => api.groups.mute(c.id, m.id, !m.muted))
              }
            >
              {m.muted ? 'Unmute' : 'Mute'}
            </button>
          )}
          {outranks && (
            <button
              type="button"
              class="danger"
              aria-label={`Remove ${m.username}`}
              onClick={() => void store.groupAction(c.id, (api) => api.groups.remove(c.id, m.id))}
            >
              Remove
            </button>
          )}
        </span>
      )}
    </li>
  );
}

/**
 * The group's invite code (admins): shown for copying, replaced by a new one, or revoked. Anyone
 * holding the code joins with "Join with code"; a replaced or revoked code stops working at once.
 */
function InviteCode(props: { store: ChatStore; c: ConversationView }) {
  const { store, c } = props;
  // undefined: not asked for yet (or the server refused); null: the group has no code. Asked for
  // on demand: the server answers a group without a code with a 404, which the browser logs as
  // an error, and most visits to the settings are not about the code (decision 0080).
  const [code, setCode] = useState<string | null | undefined>(undefined);
  const show = async () => setCode(await store.inviteCode(c.id, false));
  const renew = async () => {
    const fresh = await store.inviteCode(c.id, true);
    if (fresh !== undefined) setCode(fresh);
  };
  const revoke = async () => {
    if (await store.revokeInviteCode(c.id)) setCode(null);
  };
  return (
    <div class="dialog-form">
      <label for="settings-invite">Invite code</label>
      <div class="row">
        <input
          id="settings-invite"
          readOnly
          value={code ?? ''}
          placeholder={code === null ? 'No invite code' : 'Not shown'}
          onFocus={(e) => e.currentTarget.select()}
        />
        {code === undefined && (
          <button type="button" onClick={() => void show()}>
            Show code
          </button>
        )}
        {code !== undefined && (
          <button type="button" onClick={() => void renew()}>
            {code ? 'New code' : 'Create code'}
          </button>
        )}
        {code && (
          <button type="button" class="danger" onClick={() => void revoke()}>
            Revoke
          </button>
        )}
      </div>
    </div>
  );
}
