// The account dialog: the devices logged in to this account (log any other one out: a lost phone),
// the password (changing it logs every other device out), downloading one's data, and deleting
// the account.
// docs/rest-api.md, Accounts.
import { useEffect, useState } from 'preact/hooks';
import type { DeviceSession } from 'parley/sdk';
import type { ChatStore } from './chat-store.js';
import { Modal } from './dialogs.js';
import { fullTime } from './format.js';

export function AccountDialog(props: { store: ChatStore; onClose: () => void }) {
  const { store } = props;
  const [devices, setDevices] = useState<readonly DeviceSession[] | null>(null);
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [deletePassword, setDeletePassword] = useState('');

  const load = async () => setDevices(await store.devices());
  useEffect(() => {
    void load();
  }, [store]);

  const logOut = async (device: string) => {
    if (!confirm(`Log ${device} out? It will need the password to come back.`)) return;
    if (await store.logOutDevice(device)) await load();
  };
  const change = async (e: Event) => {
    e.preventDefault();
    if (next !== repeat) {
      store.notify('error', 'The new password and its repetition differ.');
      return;
    }
    setBusy(true);
    const done = await store.changePassword(current, next);
    setBusy(false);
    if (!done) return;
    setCurrent('');
    setNext('');
    setRepeat('');
    await load();
  };

  const deleteAccount = async (e: Event) => {
    e.preventDefault();
    const sure = confirm(
      'Delete your account for good? You leave every group, your contacts end, and nobody can log in to it again.',
    );
    if (!sure) return;
    setBusy(true);
    // On success the session ends and the login screen replaces this dialog.
    if (!(await store.deleteAccount(deletePassword))) setBusy(false);
  };

  return (
    <Modal store={props.store} title="Your account" onClose={props.onClose}>
      <section aria-labelledby="account-devices">
        <h3 id="account-devices">Logged-in devices</h3>
        {devices === null ? (
          <p class="hint">Loading…</p>
        ) : (
          <ul class="members">
            {devices.map((d) => (
              <li class="member" key={d.device} data-testid={`device-${d.device}`}>
                <span class="member-name">
                  {d.device}
                  {d.current && <span class="hint"> (this browser)</span>}
                  <span class="hint">
                    {' '}
                    · since {fullTime(d.createdAt)} · last active {fullTime(d.lastSeenAt)}
                  </span>
                </span>
                {!d.current && (
                  <span class="member-actions">
                    <button
                      type="button"
                      aria-label={`Log out ${d.device}`}
                      onClick={() => void logOut(d.device)}
                    >
                      Log out
                    </button>
                  </span>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
      <form class="dialog-form" onSubmit={(e) => void change(e)}>
        <h3>Change password</h3>
        <p class="hint">Your other devices are logged out; this one stays.</p>
        <PasswordField
          id="password-current"
          label="Current password"
          autoComplete="current-password"
          value={current}
          onInput={setCurrent}
        />
        <PasswordField
          id="password-new"
          label="New password"
          autoComplete="new-password"
          isNew
          value={next}
          onInput={setNext}
        />
        <PasswordField
          id="password-repeat"
          label="New password again"
          autoComplete="new-password"
          value={repeat}
          onInput={setRepeat}
        />
        <div class="row end">
          <button type="submit" class="primary" disabled={busy}>
            Change password
          </button>
        </div>
      </form>
      <section class="dialog-form" aria-labelledby="account-export">
        <h3 id="account-export">Your data</h3>
        <p class="hint">
          A file with your account, profile, devices, contacts, conversations and every message you
          sent.
        </p>
        <div class="row end">
          <button
            type="button"
            disabled={busy}
            onClick={() => {
              setBusy(true);
              void store.downloadExport().finally(() => setBusy(false));
            }}
          >
            Download my data
          </button>
        </div>
      </section>
      <form class="dialog-form" onSubmit={(e) => void deleteAccount(e)}>
        <h3>Delete account</h3>
        <p class="hint">
          You leave every group (hand over the ones you own first), your contacts and requests end,
          your profile is erased and every device is logged out. Messages you sent stay where they
          are. This cannot be undone.
        </p>
        <PasswordField
          id="delete-password"
          label="Password"
          autoComplete="current-password"
          value={deletePassword}
          onInput={setDeletePassword}
        />
        <div class="row end">
          <button type="submit" class="danger" disabled={busy}>
            Delete my account
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** A labelled, required password input; `isNew` adds the server's length rule (8 to 256). */
function PasswordField(props: {
  id: string;
  label: string;
  autoComplete: 'current-password' | 'new-password';
  isNew?: boolean;
  value: string;
  onInput: (value: string) => void;
}) {
  return (
    <>
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="password"
        autoComplete={props.autoComplete}
        required
        {...(props.isNew ? { minLength: 8, maxLength: 256 } : {})}
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
    </>
  );
}
