// Log in or register. The device id is this browser's (session.ts), so a new login here replaces
// this browser's earlier session rather than adding a device; the account's device key, if this
// browser has one, proves the device to the login throttle.
import { useState } from 'preact/hooks';
import { isParleyClientError, ParleyApi } from 'parley/sdk';
import { deviceId, deviceKeyFor, keepDeviceKey, type Session } from './session.js';

type Mode = 'login' | 'register';

export function AuthScreen(props: { notice: string | null; onSession: (s: Session) => void }) {
  const [mode, setMode] = useState<Mode>('login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const api = new ParleyApi({ url: location.origin, fetch: (i, init) => fetch(i, init) });
    const name = username.trim();
    const credentials = { username: name, password, device: deviceId() };
    const deviceKey = deviceKeyFor(name);
    try {
      const r =
        mode === 'login'
          ? await api.login(deviceKey === undefined ? credentials : { ...credentials, deviceKey })
          : await api.register(credentials);
      keepDeviceKey(r.user.username, r.deviceKey);
      props.onSession({ token: r.token, device: r.device, user: r.user });
    } catch (err) {
      setError(isParleyClientError(err) ? err.message : 'The server could not be reached.');
      setBusy(false);
    }
  };

  const other: Mode = mode === 'login' ? 'register' : 'login';
  return (
    <main class="auth">
      <form class="auth-box" onSubmit={(e) => void submit(e)} aria-labelledby="auth-title">
        <h1 class="brand">Parley</h1>
        <h2 id="auth-title">{mode === 'login' ? 'Log in' : 'Create an account'}</h2>
        {props.notice && (
          <p class="notice notice-info" role="status">
            {props.notice}
          </p>
        )}
        <label for="auth-username">Username</label>
        <input
          id="auth-username"
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellcheck={false}
          required
          maxLength={32}
          pattern="[A-Za-z0-9_.\-]+"
          title="Letters, digits, _ . and -"
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
        <label for="auth-password">Password</label>
        <input
          id="auth-password"
          name="password"
          type="password"
          autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
          required
          minLength={8}
          maxLength={256}
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        {mode === 'register' && <p class="hint">At least 8 characters.</p>}
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {mode === 'login' ? 'Log in' : 'Register'}
        </button>
        <p class="switch">
          {mode === 'login' ? 'New here?' : 'Have an account?'}{' '}
          <button
            type="button"
            class="link"
            onClick={() => {
              setMode(other);
              setError(null);
            }}
          >
            {other === 'login' ? 'Log in' : 'Create an account'}
          </button>
        </p>
      </form>
    </main>
  );
}
