import useBaseUrl from '@docusaurus/useBaseUrl';
import useIsBrowser from '@docusaurus/useIsBrowser';
import {useLocation} from '@docusaurus/router';
import {useHallpassConfig} from './config';

/**
 * A `redirect` query value made safe to navigate to: a path on this site, never another origin
 * (`//evil.example` and `/\evil.example` are other origins to a browser).
 */
export function safeRedirect(value: string | null | undefined, fallback: string): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) {
    return fallback;
  }
  return value;
}

/**
 * Where "Sign in" leads: the plugin's sign-in page with a way back to the current page, or hallpass's
 * own page when the site turned the plugin's pages off.
 */
export function useSignInHref(kind: 'signIn' | 'signUp' = 'signIn'): string {
  const {routes, url} = useHallpassConfig();
  const {pathname, search, hash} = useLocation();
  const here = pathname + search + hash;
  const home = useBaseUrl('/');
  const isBrowser = useIsBrowser();
  if (routes) {
    // Between the sign-in and sign-up pages, keep the page the reader originally came from.
    const onAuthPage = pathname === routes.signIn || pathname === routes.signUp;
    const back = onAuthPage ? safeRedirect(new URLSearchParams(search).get('redirect'), home) : here;
    return `${routes[kind]}?redirect=${encodeURIComponent(back)}`;
  }
  // hallpass's built-in pages send the reader back to `callbackURL` (an absolute URL on a trusted origin),
  // which only the browser knows: the server render and hydration link without it, then it is added.
  const callback = isBrowser ? `?callbackURL=${encodeURIComponent(window.location.href)}` : '';
  return `${url}/${kind === 'signIn' ? 'sign-in' : 'sign-up'}${callback}`;
}
