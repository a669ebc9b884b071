import {useLocation} from '@docusaurus/router';
import type {Dimension} from '../types';
import {useAuthClient, type HallpassUser} from './authClient';
import {useChapterChoice, type ChapterChoice} from './chapterChoice';
import {useHallpassConfig} from './config';
import {DIMENSIONS, type Levels} from './levels';

/** `pending` until the first get-session answer: during the server render and hydration, and ~200 ms after. */
export type SessionStatus = 'pending' | 'signed-in' | 'signed-out';

/** The reader; `status === 'signed-in'` narrows `user` to the signed-in user. */
export type Reader =
  | {status: 'pending'; user: null; profile: Levels}
  | {status: 'signed-out'; user: null; profile: Levels}
  | {status: 'signed-in'; user: HallpassUser; profile: Levels};

/** Who is reading: the session from the official client, and the profile levels read off the user. */
export function useReader(): Reader {
  const client = useAuthClient();
  const {fields} = useHallpassConfig();
  const {data, isPending, error} = client.useSession();
  const user = data?.user ?? null;
  const profile = {} as Levels;
  for (const dimension of DIMENSIONS) {
    const value: unknown = user ? (user as Record<string, unknown>)[fields[dimension]] : null;
    profile[dimension] = typeof value === 'string' && value !== '' ? value : null;
  }
  // A failed session request (server down, CORS refused) counts as signed out: readers get the default
  // content instead of a page that waits forever.
  if (user) {
    return {status: 'signed-in', user, profile};
  }
  return isPending && !error
    ? {status: 'pending', user: null, profile}
    : {status: 'signed-out', user: null, profile};
}

/** The key a chapter's choice is stored under: its path, without a trailing slash. */
export function useChapterKey(): string {
  const {pathname} = useLocation();
  return pathname.replace(/\/+$/, '') || '/';
}

export interface Personalization {
  /** False while what to show is not known yet: render the signed-out view, hidden (see styles.css). */
  ready: boolean;
  /** The levels this page is shown for: the chapter's choice, else the profile. */
  levels: Levels;
  profile: Levels;
  choice: ChapterChoice;
  reader: Reader;
}

/** What the personalization components on the current page adapt to. */
export function usePersonalization(): Personalization {
  const reader = useReader();
  const [choice] = useChapterChoice(useChapterKey());
  const levels = {} as Levels;
  for (const dimension of DIMENSIONS) {
    levels[dimension] = choice[dimension] ?? reader.profile[dimension];
  }
  // A chapter whose levels are all picked does not need to wait for the session.
  const ready =
    reader.status !== 'pending' || DIMENSIONS.every((d: Dimension) => choice[d] !== undefined);
  return {ready, levels, profile: reader.profile, choice, reader};
}
