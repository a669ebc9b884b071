import {useEffect, useId, useRef, useState, type FormEvent, type ReactNode} from 'react';
import clsx from 'clsx';
import Link from '@docusaurus/Link';
import {
  DIMENSIONS,
  askChatbot,
  labelOf,
  useHallpassConfig,
  useProfileSchema,
  useReader,
  useSignInHref,
  type ChatAnswer,
  type Dimension,
} from 'docusaurus-plugin-hallpass/client';
import styles from './styles.module.css';

export interface Props {
  title?: string;
  placeholder?: string;
  className?: string;
}

const DIMENSION_LABELS: Record<Dimension, string> = {software: 'Software', hardware: 'Hardware'};

/**
 * Ask the textbook's assistant: posts the question to the chatbot backend with the reader's JWT, which
 * carries their backgrounds, so the answer is pitched at their level. Signed-out readers are asked to
 * sign in. Not a heading, on purpose: it would appear in every chapter's table of contents.
 */
export default function ChatBox({
  title = 'Ask the assistant',
  placeholder = 'Ask a question about this chapter…',
  className,
}: Props): ReactNode {
  const {chatbotUrl, authBaseURL, fields} = useHallpassConfig();
  const {status} = useReader();
  const schema = useProfileSchema();
  const signInHref = useSignInHref();
  const id = useId();
  const [question, setQuestion] = useState('');
  const [answer, setAnswer] = useState<ChatAnswer | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const inFlight = useRef<AbortController | null>(null);

  useEffect(() => () => inFlight.current?.abort(), []);

  if (!chatbotUrl) {
    return null;
  }

  const ask = async (event: FormEvent) => {
    event.preventDefault();
    const text = question.trim();
    if (!text) {
      return;
    }
    inFlight.current?.abort();
    const controller = new AbortController();
    inFlight.current = controller;
    setBusy(true);
    setError('');
    try {
      setAnswer(await askChatbot(chatbotUrl, authBaseURL, text, controller.signal));
    } catch (e) {
      if ((e as Error).name !== 'AbortError') {
        setAnswer(null);
        setError((e as Error).message);
      }
    } finally {
      if (inFlight.current === controller) {
        setBusy(false);
      }
    }
  };

  // "Answered for Software: Beginner · Hardware: No experience", from the user the backend saw.
  const answeredFor = answer?.user
    ? DIMENSIONS.map((d) => {
        const level = answer.user?.[fields[d]];
        return `${DIMENSION_LABELS[d]}: ${typeof level === 'string' && level ? labelOf(schema.fields, fields[d], level) : 'not set'}`;
      }).join(' · ')
    : null;

  return (
    <aside className={clsx('hallpass-chat', styles.box, className)} aria-labelledby={`${id}-title`} data-hallpass-chat="">
      <div id={`${id}-title`} className={styles.title}>
        {title}
      </div>
      {status === 'signed-out' ? (
        <p className={styles.signIn}>
          <Link to={signInHref}>Sign in</Link> to ask questions. Answers are written for your software and
          hardware background.
        </p>
      ) : (
        <form className={styles.form} onSubmit={(e) => void ask(e)}>
          <textarea
            aria-label="Your question"
            className={styles.input}
            name="question"
            rows={2}
            placeholder={placeholder}
            value={question}
            onChange={(event) => setQuestion(event.target.value)}
            onKeyDown={(event) => {
              // Enter sends, Shift+Enter starts a new line (as in chat apps).
              if (event.key === 'Enter' && !event.shiftKey) {
                event.preventDefault();
                event.currentTarget.form?.requestSubmit();
              }
            }}
            disabled={status === 'pending'}
          />
          <button type="submit" className="button button--primary" disabled={busy || status === 'pending' || !question.trim()}>
            {busy ? 'Thinking…' : 'Ask'}
          </button>
        </form>
      )}
      <div aria-live="polite" className={styles.output}>
        {error && (
          <p className={styles.error} role="alert">
            {error}
          </p>
        )}
        {answer && (
          <div className={styles.answer} data-hallpass-answer="">
            <div className={styles.answerText}>{answer.answer}</div>
            {answeredFor && <div className={styles.meta}>Answered for {answeredFor}</div>}
          </div>
        )}
      </div>
    </aside>
  );
}
