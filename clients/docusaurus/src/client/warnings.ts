import {useEffect} from 'react';
import {unknownLevels, type LevelCondition} from './levels';

/** In development, names a level that no reader can have (a typo in the MDX hides content silently). */
export function useWarnUnknownLevels(
  conditions: LevelCondition | readonly LevelCondition[],
  order: readonly string[],
): void {
  const list: readonly LevelCondition[] = Array.isArray(conditions) ? conditions : [conditions as LevelCondition];
  const unknown =
    process.env.NODE_ENV === 'production' ? [] : [...new Set(list.flatMap((c) => unknownLevels(c, order)))];
  const key = unknown.join(',');
  useEffect(() => {
    if (key) {
      console.warn(`[hallpass] unknown level(s) ${key}: the levels are ${order.join(', ')}`);
    }
  }, [key, order]);
}
