import {useEffect, type RefObject} from 'react';
import {useHistory, useLocation} from '@docusaurus/router';
import useBaseUrl from '@docusaurus/useBaseUrl';
import {safeRedirect} from './navigation';
import type {FormErrors} from './errors';

/** After a failed submit, moves focus to the first field the server complained about. */
export function useFocusFirstError(form: RefObject<HTMLFormElement | null>, errors: FormErrors): void {
  useEffect(() => {
    const target = form.current?.querySelector<HTMLElement>(
      '[aria-invalid="true"] input, input[aria-invalid="true"], [data-form-error]',
    );
    target?.focus();
  }, [form, errors]);
}

/** Where to go after signing in or up: the page's `redirect` query value if it is safe, else home. */
export function useRedirectTarget(): {target: string; go: () => void} {
  const {search} = useLocation();
  const history = useHistory();
  const home = useBaseUrl('/');
  const target = safeRedirect(new URLSearchParams(search).get('redirect'), home);
  return {target, go: () => history.push(target)};
}
