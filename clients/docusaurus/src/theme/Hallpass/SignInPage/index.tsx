import {useRef, useState, type FormEvent, type ReactNode} from 'react';
import Link from '@docusaurus/Link';
import AuthPage from '@theme/Hallpass/AuthPage';
import Field from '@theme/Hallpass/Field';
import FormMessage from '@theme/Hallpass/FormMessage';
import {
  toFormErrors,
  useAuthClient,
  useFocusFirstError,
  useReader,
  useRedirectTarget,
  useSignInHref,
  type FormErrors,
} from 'docusaurus-plugin-hallpass/client';
import styles from './styles.module.css';

const FIELDS = ['email', 'password'];

/** `/sign-in`: email and password, then back to the page the reader came from (`?redirect=`). */
export default function SignInPage(): ReactNode {
  const client = useAuthClient();
  const reader = useReader();
  const {target, go} = useRedirectTarget();
  const signUpHref = useSignInHref('signUp');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<FormErrors>({});
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  useFocusFirstError(form, errors);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    try {
      const {error} = await client.signIn.email({email: email.trim(), password});
      if (error) {
        setErrors(toFormErrors(error, FIELDS));
      } else {
        go();
      }
    } catch {
      setErrors(toFormErrors({}, FIELDS));
    } finally {
      setBusy(false);
    }
  };

  if (reader.status === 'signed-in' && !busy) {
    return (
      <AuthPage title="Sign in">
        <p>
          You are signed in as <strong>{reader.user.name || reader.user.email}</strong>.
        </p>
        <Link className="button button--primary button--block" to={target}>
          Continue
        </Link>
      </AuthPage>
    );
  }

  return (
    <AuthPage title="Sign in" description="Sign in to read chapters tailored to your background.">
      {/* noValidate: the server's messages, next to their fields, are the ones readers see. */}
      <form ref={form} onSubmit={(e) => void submit(e)} noValidate data-hallpass-form="sign-in">
        <FormMessage kind="error">{errors.form}</FormMessage>
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
          autoComplete="current-password"
          error={errors.password}
          required
        />
        <button type="submit" className="button button--primary button--block" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p className={styles.footer}>
        New here? <Link to={signUpHref}>Create an account</Link>
      </p>
    </AuthPage>
  );
}
