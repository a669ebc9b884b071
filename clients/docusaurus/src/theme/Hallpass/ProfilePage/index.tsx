import {useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode} from 'react';
import clsx from 'clsx';
import Link from '@docusaurus/Link';
import AuthPage from '@theme/Hallpass/AuthPage';
import Field from '@theme/Hallpass/Field';
import FormMessage from '@theme/Hallpass/FormMessage';
import ProfileQuestions, {type ProfileValue} from '@theme/Hallpass/ProfileQuestions';
import {
  toFormErrors,
  useAuthClient,
  useFocusFirstError,
  useProfileSchema,
  useReader,
  useSignInHref,
  type FormErrors,
  type HallpassUser,
  type ProfileField,
} from 'docusaurus-plugin-hallpass/client';
import styles from './styles.module.css';

/** `/profile`: edit name and backgrounds, see and end sessions, sign out. */
export default function ProfilePage(): ReactNode {
  const reader = useReader();
  const signInHref = useSignInHref();
  const schema = useProfileSchema();

  if (reader.status === 'pending') {
    // Same card, no content yet: the page does not jump when the session arrives.
    return (
      <AuthPage title="Your profile" wide>
        <div className={styles.placeholder} aria-busy="true" />
      </AuthPage>
    );
  }
  if (reader.status === 'signed-out') {
    return (
      <AuthPage title="Your profile">
        <p>Sign in to see your profile and choose how chapters are written for you.</p>
        <Link className="button button--primary button--block" to={signInHref}>
          Sign in
        </Link>
      </AuthPage>
    );
  }
  return (
    <AuthPage title="Your profile" wide>
      <ProfileForm key={reader.user.id} user={reader.user} fields={schema.fields} />
      <Sessions />
      <SignOut />
    </AuthPage>
  );
}

function initialAnswers(user: HallpassUser, fields: ProfileField[]): Record<string, ProfileValue> {
  const record = user as Record<string, unknown>;
  const answers: Record<string, ProfileValue> = {};
  for (const field of fields) {
    const value = record[field.key];
    answers[field.key] =
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : null;
  }
  return answers;
}

function ProfileForm({user, fields}: {user: HallpassUser; fields: ProfileField[]}): ReactNode {
  const client = useAuthClient();
  const [name, setName] = useState(user.name);
  const [answers, setAnswers] = useState(() => initialAnswers(user, fields));
  const [errors, setErrors] = useState<FormErrors>({});
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  useFocusFirstError(form, errors);

  // The schema may arrive after the session: fill in answers for questions seen for the first time.
  useEffect(() => {
    setAnswers((current) => ({...initialAnswers(user, fields), ...current}));
  }, [user, fields]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setSaved(false);
    const editable = Object.fromEntries(
      Object.entries(answers).filter(([key]) => fields.some((f) => f.key === key && f.input)),
    );
    try {
      // update-user refreshes the client's session: personalized blocks everywhere follow at once.
      const {error} = await client.updateUser({name: name.trim(), ...editable});
      if (error) {
        setErrors(toFormErrors(error, ['name', ...fields.map((f) => f.key)]));
      } else {
        setSaved(true);
      }
    } catch {
      setErrors(toFormErrors({}, ['name']));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form ref={form} onSubmit={(e) => void submit(e)} noValidate data-hallpass-form="profile">
      <FormMessage kind="error">{errors.form}</FormMessage>
      <Field name="name" label="Name" value={name} onChange={setName} autoComplete="name" error={errors.name} required />
      <div className={styles.email}>
        <span className={styles.emailLabel}>Email</span> {user.email}
      </div>
      <ProfileQuestions
        fields={fields}
        values={answers}
        onChange={(key, value) => {
          setSaved(false);
          setAnswers((a) => ({...a, [key]: value}));
        }}
        errors={errors}
        disabled={busy}
      />
      <div className={styles.actions}>
        <button type="submit" className="button button--primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save changes'}
        </button>
        <span role="status" className={styles.saved} data-hallpass-saved={saved || undefined}>
          {saved ? 'Saved. Chapters now follow your new answers.' : ''}
        </span>
      </div>
    </form>
  );
}

interface SessionRow {
  id: string;
  token: string;
  userAgent?: string | null;
  createdAt: Date | string;
  updatedAt: Date | string;
}

/** A short name for a browser from its user agent, enough to tell sessions apart. */
function describeAgent(userAgent: string | null | undefined): string {
  if (!userAgent) {
    return 'Unknown device';
  }
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : 'Browser';
  const os = /Windows/.test(userAgent)
    ? 'Windows'
    : /Android/.test(userAgent)
      ? 'Android'
      : /iPhone|iPad/.test(userAgent)
        ? 'iOS'
        : /Mac OS X/.test(userAgent)
          ? 'macOS'
          : /Linux/.test(userAgent)
            ? 'Linux'
            : '';
  return os ? `${browser} on ${os}` : browser;
}

function Sessions(): ReactNode {
  const client = useAuthClient();
  const {data} = client.useSession();
  const current = data?.session.token;
  const [sessions, setSessions] = useState<SessionRow[] | null>(null);
  const [error, setError] = useState('');

  const load = useCallback(async () => {
    const result = await client.listSessions();
    if (result.error) {
      setError(result.error.message ?? 'Your sessions could not be loaded.');
    } else {
      setSessions(result.data as SessionRow[]);
    }
  }, [client]);

  useEffect(() => {
    void load();
  }, [load]);

  const revoke = async (token: string) => {
    const result = await client.revokeSession({token});
    if (result.error) {
      setError(result.error.message ?? 'The session could not be ended.');
    }
    await load();
  };

  return (
    <section className={styles.section} aria-labelledby="hallpass-sessions">
      <h2 id="hallpass-sessions" className={styles.sectionTitle}>
        Where you are signed in
      </h2>
      <FormMessage kind="error">{error}</FormMessage>
      {sessions === null ? (
        <p className={styles.muted}>Loading…</p>
      ) : (
        <ul className={styles.sessions}>
          {sessions.map((session) => (
            <li key={session.id} className={styles.session}>
              <div>
                <div className={styles.device}>
                  {describeAgent(session.userAgent)}
                  {session.token === current && <span className={clsx('badge badge--success', styles.badge)}>This browser</span>}
                </div>
                <div className={styles.muted}>
                  Signed in {new Date(session.createdAt).toLocaleString()} · last active{' '}
                  {new Date(session.updatedAt).toLocaleString()}
                </div>
              </div>
              {session.token !== current && (
                <button type="button" className="button button--sm button--outline button--danger" onClick={() => void revoke(session.token)}>
                  Sign out
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function SignOut(): ReactNode {
  const client = useAuthClient();
  return (
    <div className={styles.section}>
      <button
        type="button"
        className="button button--secondary"
        onClick={() => void client.signOut()}>
        Sign out
      </button>
    </div>
  );
}
