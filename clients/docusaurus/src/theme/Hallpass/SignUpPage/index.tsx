import {useRef, useState, type FormEvent, type ReactNode} from 'react';
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
  useRedirectTarget,
  useSignInHref,
  type FormErrors,
} from 'docusaurus-plugin-hallpass/client';
import styles from './styles.module.css';

/**
 * `/sign-up`: name, email, password and the profile questions hallpass asks (read from
 * `/auth/profile-schema`). The server validates everything; its messages appear next to their fields.
 */
export default function SignUpPage(): ReactNode {
  const client = useAuthClient();
  const schema = useProfileSchema();
  const {go} = useRedirectTarget();
  const signInHref = useSignInHref('signIn');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [profile, setProfile] = useState<Record<string, ProfileValue>>({});
  const [errors, setErrors] = useState<FormErrors>({});
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  useFocusFirstError(form, errors);

  const fieldKeys = ['name', 'email', 'password', ...schema.fields.map((f) => f.key)];

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    // Unanswered questions are left out rather than sent as null: the server applies its defaults.
    const answers = Object.fromEntries(Object.entries(profile).filter(([, v]) => v !== null));
    try {
      const {error} = await client.signUp.email({
        name: name.trim(),
        email: email.trim(),
        password,
        ...answers,
      });
      if (error) {
        setErrors(toFormErrors(error, fieldKeys));
      } else {
        go();
      }
    } catch {
      setErrors(toFormErrors({}, fieldKeys));
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthPage title="Create your account" description="Tell us what you know; chapters adapt to it.">
      <form ref={form} onSubmit={(e) => void submit(e)} noValidate data-hallpass-form="sign-up">
        <FormMessage kind="error">{errors.form}</FormMessage>
        <Field name="name" label="Name" value={name} onChange={setName} autoComplete="name" error={errors.name} required />
        <Field
          name="email"
          label="Email"
          type="email"
          value={email}
          onChange={setEmail}
          autoComplete="email"
          error={errors.email}
          required
        />
        <Field
          name="password"
          label="Password"
          type="password"
          value={password}
          onChange={setPassword}
          autoComplete="new-password"
          hint="At least 8 characters."
          error={errors.password}
          required
        />
        <h2 className={styles.section}>About you</h2>
        <p className={styles.sectionHint}>Chapters and the assistant adapt to your answers. You can change them later.</p>
        <ProfileQuestions
          fields={schema.fields}
          values={profile}
          onChange={(key, value) => setProfile((p) => ({...p, [key]: value}))}
          errors={errors}
          disabled={busy}
        />
        <button type="submit" className="button button--primary button--block" disabled={busy}>
          {busy ? 'Creating your account…' : 'Create account'}
        </button>
      </form>
      <p className={styles.footer}>
        Already have an account? <Link to={signInHref}>Sign in</Link>
      </p>
    </AuthPage>
  );
}
