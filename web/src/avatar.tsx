// A user's picture: the profile's avatar image when it has one (downloaded with the token, so an
// object URL), else the first letter of the name. Decorative: the name is always written next to it.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ChatStore } from './chat-store.js';

export function Avatar(props: {
  store: ChatStore;
  username: string;
  class?: string;
  /** Drawn over it (the presence dot). */
  children?: ComponentChildren;
}) {
  const { store, username } = props;
  const attachment = store.profile(username)?.avatar ?? null;
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    setUrl(null);
    if (attachment === null) return;
    let live = true;
    store.attachmentUrl(attachment).then(
      (u) => live && setUrl(u),
      () => undefined, // no picture: the letter stays
    );
    return () => {
      live = false;
    };
  }, [store, attachment]);
  return (
    <span class={`avatar ${props.class ?? ''}`} aria-hidden="true">
      {url ? (
        <img class="avatar-img" src={url} alt="" data-testid={`avatar-${username}`} />
      ) : (
        username.slice(0, 1).toUpperCase()
      )}
      {props.children}
    </span>
  );
}
