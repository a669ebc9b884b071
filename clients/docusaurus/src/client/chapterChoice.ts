import {useCallback, useSyncExternalStore} from 'react';
import type {Dimension} from '../types';
import {DIMENSIONS} from './levels';

/** The levels a reader picked for one chapter; a dimension left out follows their profile. */
export type ChapterChoice = Partial<Record<Dimension, string>>;

const STORAGE_PREFIX = 'hallpass:chapter:';
const EMPTY: ChapterChoice = Object.freeze({});

// Parsed choices by chapter, so that a snapshot is the same object until it changes (React requires it).
const cache = new Map<string, ChapterChoice>();
const listeners = new Set<() => void>();

function emit() {
  listeners.forEach((listener) => listener());
}

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    // Storage can be disabled (privacy settings, sandboxed frames): the choice then lasts the page.
    return null;
  }
}

function parse(raw: string | null): ChapterChoice {
  if (!raw) {
    return EMPTY;
  }
  try {
    const value = JSON.parse(raw) as Record<string, unknown>;
    const choice: ChapterChoice = {};
    for (const dimension of DIMENSIONS) {
      const level = value[dimension];
      if (typeof level === 'string') {
        choice[dimension] = level;
      }
    }
    return choice;
  } catch {
    return EMPTY;
  }
}

function read(chapter: string): ChapterChoice {
  let choice = cache.get(chapter);
  if (choice === undefined) {
    choice = parse(storage()?.getItem(STORAGE_PREFIX + chapter) ?? null);
    cache.set(chapter, choice);
  }
  return choice;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  // Another tab changed a choice: drop what we parsed and re-read.
  const onStorage = (event: StorageEvent) => {
    if (event.key === null || event.key.startsWith(STORAGE_PREFIX)) {
      cache.clear();
      listener();
    }
  };
  window.addEventListener('storage', onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('storage', onStorage);
  };
}

/** Saves (or, for an empty choice, forgets) the levels picked for a chapter. */
export function setChapterChoice(chapter: string, choice: ChapterChoice): void {
  const clean: ChapterChoice = {};
  for (const dimension of DIMENSIONS) {
    const level = choice[dimension];
    if (level) {
      clean[dimension] = level;
    }
  }
  const empty = Object.keys(clean).length === 0;
  try {
    if (empty) {
      storage()?.removeItem(STORAGE_PREFIX + chapter);
    } else {
      storage()?.setItem(STORAGE_PREFIX + chapter, JSON.stringify(clean));
    }
  } catch {
    // Quota or privacy mode: keep the choice for this page only.
  }
  cache.set(chapter, empty ? EMPTY : clean);
  emit();
}

/**
 * The choice for `chapter` and a setter. The server render and the hydrating render see no choice
 * (localStorage exists only in the browser); the stored one follows right after hydration.
 */
export function useChapterChoice(chapter: string): [ChapterChoice, (choice: ChapterChoice) => void] {
  const choice = useSyncExternalStore(
    subscribe,
    () => read(chapter),
    () => EMPTY,
  );
  const set = useCallback((next: ChapterChoice) => setChapterChoice(chapter, next), [chapter]);
  return [choice, set];
}
