import {useId, type ReactNode} from 'react';
import clsx from 'clsx';
import Field from '@theme/Hallpass/Field';
import type {FormErrors, ProfileField} from 'docusaurus-plugin-hallpass/client';
import styles from './styles.module.css';

/** A profile answer: null is "no answer". */
export type ProfileValue = string | number | boolean | null;

export interface Props {
  /** The questions, from `useProfileSchema()`; server-owned fields (`input: false`) are skipped. */
  fields: ProfileField[];
  values: Record<string, ProfileValue>;
  onChange: (key: string, value: ProfileValue) => void;
  errors: FormErrors;
  disabled?: boolean;
}

/** The profile questions as hallpass describes them: a schema change needs no change here. */
export default function ProfileQuestions({fields, values, onChange, errors, disabled = false}: Props): ReactNode {
  return (
    <>
      {fields
        .filter((field) => field.input)
        .map((field) => (
          <Question
            key={field.key}
            field={field}
            value={values[field.key] ?? null}
            onChange={(value) => onChange(field.key, value)}
            error={errors[field.key]}
            disabled={disabled}
          />
        ))}
    </>
  );
}

function Question({
  field,
  value,
  onChange,
  error,
  disabled,
}: {
  field: ProfileField;
  value: ProfileValue;
  onChange: (value: ProfileValue) => void;
  error: string | undefined;
  disabled: boolean;
}): ReactNode {
  const id = useId();
  const errorNode = error && (
    <p id={`${id}-error`} className={styles.error} role="alert" data-error-for={field.key}>
      {error}
    </p>
  );

  switch (field.type) {
    case 'enum': {
      // Optional questions can be left unanswered: readers then get the default content.
      const choices = field.values.map((v, i) => ({value: v as string | null, label: field.labels[i] ?? v}));
      if (!field.required) {
        choices.push({value: null, label: 'Prefer not to say'});
      }
      return (
        <fieldset
          className={styles.question}
          data-field={field.key}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : undefined}>
          <legend className={styles.legend}>{field.label}</legend>
          <div className={styles.choices}>
            {choices.map((choice) => (
              <label
                key={choice.value ?? ''}
                className={clsx(styles.choice, value === choice.value && styles.checked)}>
                <input
                  type="radio"
                  name={field.key}
                  value={choice.value ?? ''}
                  checked={value === choice.value}
                  onChange={() => onChange(choice.value)}
                  disabled={disabled}
                />
                <span>{choice.label}</span>
              </label>
            ))}
          </div>
          {errorNode}
        </fieldset>
      );
    }
    case 'boolean':
      return (
        <div className={styles.question} data-field={field.key}>
          <label className={styles.checkbox}>
            <input
              type="checkbox"
              name={field.key}
              checked={value === true}
              onChange={(event) => onChange(event.target.checked)}
              disabled={disabled}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? `${id}-error` : undefined}
            />
            <span>{field.label}</span>
          </label>
          {errorNode}
        </div>
      );
    case 'number':
      return (
        <Field
          name={field.key}
          label={field.label}
          type="number"
          value={value === null ? '' : String(value)}
          onChange={(text) => onChange(text === '' ? null : Number(text))}
          error={error}
          required={field.required}
          disabled={disabled}
        />
      );
    default:
      return (
        <Field
          name={field.key}
          label={field.label}
          value={typeof value === 'string' ? value : ''}
          onChange={(text) => onChange(text === '' ? null : text)}
          error={error}
          required={field.required}
          maxLength={field.maxLength ?? undefined}
          disabled={disabled}
        />
      );
  }
}
