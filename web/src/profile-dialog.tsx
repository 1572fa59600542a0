// The own profile: display name, bio and picture (an image uploaded as an attachment), as other
// users see them (GET /v1/users/:username).
import { useRef, useState } from 'preact/hooks';
import { Avatar } from './avatar.js';
import type { ChatStore } from './chat-store.js';
import { Modal } from './dialogs.js';

export function ProfileDialog(props: { store: ChatStore; onClose: () => void }) {
  const { store } = props;
  const me = store.profile(store.me.username);
  const [displayName, setDisplayName] = useState<string | null>(null);
  const [bio, setBio] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  // The fields start from the profile once it is loaded, then follow what is typed.
  const shownName = displayName ?? me?.displayName ?? '';
  const shownBio = bio ?? me?.bio ?? '';

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const done = await store.saveProfile({ displayName: shownName.trim(), bio: shownBio.trim() });
    setBusy(false);
    if (done) props.onClose();
  };
  const pick = async (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    if (!file.type.startsWith('image/')) {
      store.notify('error', 'A profile picture must be an image.');
      return;
    }
    setBusy(true);
    await store.setAvatar(file);
    setBusy(false);
  };

  return (
    <Modal store={props.store} title="Your profile" onClose={props.onClose}>
      <form class="dialog-form" onSubmit={(e) => void save(e)}>
        <div class="row profile-picture">
          <Avatar store={store} username={store.me.username} class="large" />
          <input
            ref={fileInput}
            id="profile-picture"
            class="visually-hidden"
            type="file"
            accept="image/*"
            tabIndex={-1}
            aria-label="Profile picture"
            onChange={(e) => void pick(e)}
          />
          <button type="button" disabled={busy} onClick={() => fileInput.current?.click()}>
            Change picture
          </button>
          {me?.avatar && (
            <button
              type="button"
              class="quiet"
              disabled={busy}
              onClick={() => void store.saveProfile({ avatar: null })}
            >
              Remove picture
            </button>
          )}
        </div>
        <label for="profile-name">Display name</label>
        <input
          id="profile-name"
          maxLength={64}
          value={shownName}
          onInput={(e) => setDisplayName(e.currentTarget.value)}
        />
        <label for="profile-bio">About you</label>
        <textarea
          id="profile-bio"
          rows={3}
          maxLength={512}
          value={shownBio}
          onInput={(e) => setBio(e.currentTarget.value)}
        />
        <div class="row end">
          <button type="button" class="quiet" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy || me === undefined}>
            Save
          </button>
        </div>
      </form>
    </Modal>
  );
}
