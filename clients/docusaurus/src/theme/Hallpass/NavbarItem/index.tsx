import {useEffect, useId, useRef, useState, type ReactNode} from 'react';
import clsx from 'clsx';
import Link from '@docusaurus/Link';
import {
  useAuthClient,
  useHallpassConfig,
  useReader,
  useSignInHref,
} from 'docusaurus-plugin-hallpass/client';
import styles from './styles.module.css';

export interface Props {
  /** Set by the navbar for the mobile sidebar. */
  mobile?: boolean;
  position?: 'left' | 'right';
  className?: string;
  /** Text of the link for signed-out readers. */
  label?: string;
}

/** The profile page: the plugin's own, or hallpass's when the site turned the plugin's pages off. */
function useProfileHref(): string {
  const {routes, url} = useHallpassConfig();
  return routes ? routes.profile : `${url}/profile`;
}

function useSignOut(): () => Promise<void> {
  const client = useAuthClient();
  return async () => {
    // The client refreshes its session store on sign-out: every personalized block follows.
    await client.signOut();
  };
}

/**
 * `{type: 'custom-hallpass', position: 'right'}` in the navbar items: "Sign in" for signed-out readers,
 * the reader's name with a menu (Profile, Sign out) for signed-in ones. While the session loads it keeps
 * the size of "Sign in", invisible, so the navbar does not jump.
 */
export default function HallpassNavbarItem({mobile = false, className, label = 'Sign in'}: Props): ReactNode {
  const {status, user} = useReader();
  const signInHref = useSignInHref();
  const profileHref = useProfileHref();
  const signOut = useSignOut();

  if (status !== 'signed-in') {
    const pending = status === 'pending';
    const link = (
      <Link
        className={clsx(mobile ? 'menu__link' : 'navbar__item navbar__link', pending && styles.pending, className)}
        to={signInHref}
        aria-hidden={pending || undefined}
        tabIndex={pending ? -1 : undefined}
        data-hallpass-nav="sign-in">
        {label}
      </Link>
    );
    return mobile ? <li className="menu__list-item">{link}</li> : link;
  }

  const name = user.name || user.email;
  if (mobile) {
    return (
      <li className="menu__list-item" data-hallpass-nav="account-mobile">
        <span className={clsx('menu__link', styles.mobileName)}>{name}</span>
        <ul className="menu__list">
          <li className="menu__list-item">
            <Link className="menu__link" to={profileHref}>
              Profile
            </Link>
          </li>
          <li className="menu__list-item">
            <button type="button" className={clsx('menu__link', styles.menuButton)} onClick={() => void signOut()}>
              Sign out
            </button>
          </li>
        </ul>
      </li>
    );
  }
  return <AccountMenu name={name} profileHref={profileHref} onSignOut={signOut} className={className} />;
}

function AccountMenu({
  name,
  profileHref,
  onSignOut,
  className,
}: {
  name: string;
  profileHref: string;
  onSignOut: () => Promise<void>;
  className?: string | undefined;
}): ReactNode {
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const menuId = useId();

  // Close on a click elsewhere and on Escape, as the theme's own dropdowns do.
  useEffect(() => {
    if (!open) {
      return undefined;
    }
    const onPointer = (event: MouseEvent) => {
      if (!root.current?.contains(event.target as Node)) {
        setOpen(false);
      }
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        setOpen(false);
        root.current?.querySelector('button')?.focus();
      }
    };
    document.addEventListener('mousedown', onPointer);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onPointer);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  return (
    <div
      ref={root}
      className={clsx('navbar__item dropdown dropdown--right', open && 'dropdown--show', className)}
      data-hallpass-nav="account">
      <button
        type="button"
        className={clsx('navbar__link', styles.trigger)}
        aria-haspopup="true"
        aria-expanded={open}
        aria-controls={menuId}
        onClick={() => setOpen((o) => !o)}>
        <span className={styles.name}>{name}</span>
      </button>
      <ul id={menuId} className="dropdown__menu">
        <li>
          <Link className="dropdown__link" to={profileHref} onClick={() => setOpen(false)}>
            Profile
          </Link>
        </li>
        <li>
          <button
            type="button"
            className={clsx('dropdown__link', styles.menuButton)}
            onClick={() => {
              setOpen(false);
              void onSignOut();
            }}>
            Sign out
          </button>
        </li>
      </ul>
    </div>
  );
}
