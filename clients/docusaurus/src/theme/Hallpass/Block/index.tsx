import {useRef, type ReactNode} from 'react';
import clsx from 'clsx';
import styles from './styles.module.css';

export interface Props {
  /** `pending`: rendered for a signed-out reader but hidden until the session is known. */
  state: 'pending' | 'ready';
  /** Marks content adapted to the reader (a quiet rule on its left). */
  adapted?: boolean;
  /** `span` inside a paragraph, `div` around blocks. */
  inline?: boolean;
  children?: ReactNode;
}

/**
 * The box every personalized block renders in. While the session loads (~200 ms after hydration) the
 * signed-out content keeps its place but stays invisible, then the right content fades in: readers see
 * no flash of the wrong text. If scripts never run, CSS reveals the default after a moment anyway.
 */
export default function HallpassBlock({state, adapted = false, inline = false, children}: Props): ReactNode {
  // Fade in only content that replaces a pending render, not content shown on a client-side navigation.
  const startedPending = useRef(state === 'pending');
  const Tag = inline ? 'span' : 'div';
  return (
    <Tag
      className={clsx(
        'hallpass-block',
        styles.block,
        state === 'pending' && styles.pending,
        state === 'ready' && startedPending.current && styles.appear,
        adapted && !inline && styles.adapted,
      )}
      data-hallpass-state={state}
      aria-busy={state === 'pending' || undefined}>
      {children}
    </Tag>
  );
}
