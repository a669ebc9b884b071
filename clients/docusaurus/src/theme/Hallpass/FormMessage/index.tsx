import {type ReactNode} from 'react';
import clsx from 'clsx';

export interface Props {
  kind: 'error' | 'success' | 'info';
  children?: ReactNode;
}

/** A message about the whole form (not one field), announced to screen readers. */
export default function FormMessage({kind, children}: Props): ReactNode {
  if (!children) {
    return null;
  }
  const alert = {error: 'alert--danger', success: 'alert--success', info: 'alert--secondary'}[kind];
  return (
    <div
      className={clsx('alert', alert, 'margin-bottom--md')}
      role={kind === 'error' ? 'alert' : 'status'}
      tabIndex={-1}
      data-form-error={kind === 'error' ? '' : undefined}>
      {children}
    </div>
  );
}
