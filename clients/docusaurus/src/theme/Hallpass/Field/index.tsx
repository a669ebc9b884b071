import {useId, type ReactNode} from 'react';
import clsx from 'clsx';
import styles from './styles.module.css';

export interface Props {
  name: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  type?: 'text' | 'email' | 'password' | 'number';
  /** The server's message about this field, shown under it and announced. */
  error?: string | undefined;
  hint?: string;
  autoComplete?: string;
  required?: boolean;
  maxLength?: number | undefined;
  disabled?: boolean;
}

/** A labelled input with its hint and its error tied to it for assistive technology. */
export default function Field({
  name,
  label,
  value,
  onChange,
  type = 'text',
  error,
  hint,
  autoComplete,
  required = false,
  maxLength,
  disabled = false,
}: Props): ReactNode {
  const id = useId();
  const describedBy = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ');
  return (
    <div className={styles.field} data-field={name}>
      <label className={styles.label} htmlFor={id}>
        {label}
        {!required && <span className={styles.optional}> (optional)</span>}
      </label>
      <input
        id={id}
        className={clsx(styles.input, error && styles.invalid)}
        name={name}
        type={type}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        autoComplete={autoComplete}
        required={required}
        maxLength={maxLength}
        disabled={disabled}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
      />
      {hint && (
        <p id={`${id}-hint`} className={styles.hint}>
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className={styles.error} role="alert" data-error-for={name}>
          {error}
        </p>
      )}
    </div>
  );
}
