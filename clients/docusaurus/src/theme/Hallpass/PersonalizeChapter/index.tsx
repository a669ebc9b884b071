import {useId, type ReactNode} from 'react';
import clsx from 'clsx';
import Link from '@docusaurus/Link';
import {
  DIMENSIONS,
  labelOf,
  useChapterChoice,
  useChapterKey,
  useHallpassConfig,
  useProfileSchema,
  useReader,
  useSignInHref,
  type Dimension,
} from 'docusaurus-plugin-hallpass/client';
import styles from './styles.module.css';

export interface Props {
  className?: string;
}

const DIMENSION_LABELS: Record<Dimension, string> = {software: 'Software', hardware: 'Hardware'};

/**
 * "Personalize this chapter": one menu per dimension to read the chapter at another level than the
 * profile's. The choice is remembered per chapter in this browser; "Use my profile" forgets it.
 * Same size in every state, so nothing below it moves while the session loads.
 */
export default function PersonalizeChapter({className}: Props): ReactNode {
  const {levels, fields} = useHallpassConfig();
  const schema = useProfileSchema();
  const reader = useReader();
  const [choice, setChoice] = useChapterChoice(useChapterKey());
  const signInHref = useSignInHref();
  const id = useId();
  const chosen = DIMENSIONS.some((d) => choice[d] !== undefined);

  const profileOption = (dimension: Dimension): string => {
    const level = reader.profile[dimension];
    if (reader.status === 'signed-in') {
      return level ? `My profile (${labelOf(schema.fields, fields[dimension], level)})` : 'My profile (not set)';
    }
    return reader.status === 'pending' ? 'My profile' : 'Not set';
  };

  return (
    <section
      className={clsx('hallpass-personalize', styles.bar, className)}
      aria-labelledby={`${id}-title`}
      data-hallpass-personalize="">
      <span id={`${id}-title`} className={styles.title}>
        Personalize this chapter
      </span>
      <div className={styles.controls}>
        {DIMENSIONS.map((dimension) => (
          <label key={dimension} className={styles.control}>
            <span className={styles.controlLabel}>{DIMENSION_LABELS[dimension]}</span>
            <select
              className={styles.select}
              name={dimension}
              value={choice[dimension] ?? ''}
              onChange={(event) => setChoice({...choice, [dimension]: event.target.value || undefined})}>
              <option value="">{profileOption(dimension)}</option>
              {levels.map((level) => (
                <option key={level} value={level}>
                  {labelOf(schema.fields, fields[dimension], level)}
                </option>
              ))}
            </select>
          </label>
        ))}
        {chosen ? (
          <button type="button" className={clsx('button button--sm button--link', styles.reset)} onClick={() => setChoice({})}>
            Use my profile
          </button>
        ) : reader.status === 'signed-out' ? (
          <Link className={clsx('button button--sm button--link', styles.reset)} to={signInHref}>
            Sign in to use your profile
          </Link>
        ) : null}
      </div>
    </section>
  );
}
