/** An error as the Better Auth client reports it: the server's `{message, code}` plus the status. */
export interface AuthError {
  message?: string | undefined;
  code?: string | undefined;
  status?: number | undefined;
}

/** Field errors of a form by field name; `form` holds what belongs to no single field. */
export type FormErrors = Record<string, string>;

const EMAIL_CODES = new Set([
  'INVALID_EMAIL',
  'USER_ALREADY_EXISTS',
  'USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL',
  'EMAIL_CAN_NOT_BE_UPDATED',
]);
const PASSWORD_CODES = new Set(['PASSWORD_TOO_SHORT', 'PASSWORD_TOO_LONG', 'INVALID_PASSWORD']);

/**
 * Puts the server's message next to the field it is about. hallpass starts a field's validation message
 * with the field's key ("hardware_background must be one of: ..."), or names it as `[body.key]`.
 * "Invalid email or password" stays on the form: it must not say which of the two was wrong.
 */
export function toFormErrors(error: AuthError, fieldKeys: readonly string[]): FormErrors {
  const raw = error.message || 'Something went wrong. Please try again.';
  // Shown next to its field, "[body.email] Invalid email address" needs no "[body.email]".
  const message = raw.replace(/^\[body\.[A-Za-z0-9_]+\]\s*/, '');
  const code = error.code ?? '';
  if (EMAIL_CODES.has(code) && fieldKeys.includes('email')) {
    return {email: message};
  }
  if (PASSWORD_CODES.has(code) && fieldKeys.includes('password')) {
    return {password: message};
  }
  // Longest key first, so that `name` does not claim a message about `name_prefix`.
  const byLength = [...fieldKeys].sort((a, b) => b.length - a.length);
  const field = byLength.find(
    (key) => raw.startsWith(`${key} `) || raw.includes(`[body.${key}]`),
  );
  if (field) {
    return {[field]: message};
  }
  if (error.status === 429) {
    return {form: 'Too many attempts. Please wait a moment and try again.'};
  }
  if (!error.status) {
    return {form: 'The sign-in server cannot be reached. Please try again in a moment.'};
  }
  return {form: raw};
}
