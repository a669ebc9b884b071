/**
 * The reader's short-lived JWT (EdDSA, 15 minutes) for services such as the chatbot backend. Kept in
 * memory only: it is a bearer credential, so it never goes to localStorage.
 */

// Ask for a new token when the one held has less than this left.
const MIN_LIFETIME_MS = 60_000;

let held: {token: string; expiresAt: number} | null = null;

function expiryOf(token: string): number {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as {exp?: unknown}).exp;
    return typeof exp === 'number' ? exp * 1000 : 0;
  } catch {
    return 0;
  }
}

/** Keeps a token seen in a response (the `set-auth-jwt` header of get-session). */
export function rememberJwt(token: string): void {
  held = {token, expiresAt: expiryOf(token)};
}

/** Drops the held token (on sign-out, so the next reader does not inherit it). */
export function forgetJwt(): void {
  held = null;
}

/**
 * A token valid for at least another minute: the held one, or a new one from `GET {authBaseURL}/token`
 * (which needs the session cookie). Null when the reader is not signed in.
 */
export async function getJwt(authBaseURL: string): Promise<string | null> {
  if (held && held.expiresAt - Date.now() > MIN_LIFETIME_MS) {
    return held.token;
  }
  const response = await fetch(`${authBaseURL}/token`, {credentials: 'include'});
  if (!response.ok) {
    return null;
  }
  const body = (await response.json()) as {token?: unknown};
  if (typeof body.token !== 'string') {
    return null;
  }
  rememberJwt(body.token);
  return body.token;
}
