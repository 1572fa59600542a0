// Two places: the conversation list (`/`) and one conversation (`/c/<id>`). Paths, not hashes:
// the server answers any unknown non-API path with the client's page.
import { useEffect, useState } from 'preact/hooks';

export function conversationFromPath(path: string): string | null {
  const m = /^\/c\/([^/]+)\/?$/.exec(path);
  return m?.[1] ? decodeURIComponent(m[1]) : null;
}

export function navigate(conversation: string | null): void {
  const path = conversation === null ? '/' : `/c/${encodeURIComponent(conversation)}`;
  if (location.pathname !== path) history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): string | null {
  const [route, setRoute] = useState(() => conversationFromPath(location.pathname));
  useEffect(() => {
    const onPop = () => setRoute(conversationFromPath(location.pathname));
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  return route;
}
