/**
 * What a log may say of an outbound URL: its host (and port). A pusher or webhook URL may carry
 * a credential in its path or query, so the rest never goes to the logs.
 */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid';
  }
}
