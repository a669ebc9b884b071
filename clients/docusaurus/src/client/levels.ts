import type {Dimension} from '../types';

export const DIMENSIONS: readonly Dimension[] = ['software', 'hardware'];

/** A reader's level in each dimension; null when unknown (signed out, or no answer given). */
export type Levels = Record<Dimension, string | null>;

export const NO_LEVELS: Levels = {software: null, hardware: null};

/** One level, or several: an array, or a string separated by spaces, commas or `|`. */
export type LevelSpec = string | readonly string[];

/** Which readers a block is for. Every condition given must hold; none given means every reader. */
export interface LevelCondition {
  software?: LevelSpec;
  hardware?: LevelSpec;
  minSoftware?: string;
  maxSoftware?: string;
  minHardware?: string;
  maxHardware?: string;
}

function parseSpec(spec: LevelSpec): string[] {
  return typeof spec === 'string' ? spec.split(/[\s,|]+/).filter(Boolean) : [...spec];
}

function bounds(condition: LevelCondition, dimension: Dimension) {
  return dimension === 'software'
    ? {exact: condition.software, min: condition.minSoftware, max: condition.maxSoftware}
    : {exact: condition.hardware, min: condition.minHardware, max: condition.maxHardware};
}

/** Whether the condition says anything about `dimension`. */
export function constrains(condition: LevelCondition, dimension: Dimension): boolean {
  const {exact, min, max} = bounds(condition, dimension);
  return exact !== undefined || min !== undefined || max !== undefined;
}

/**
 * Whether a reader with `levels` is one the condition is for. A dimension the condition names but the
 * reader has no level in never matches: such readers get the `<Default>` content instead.
 */
export function matches(condition: LevelCondition, levels: Levels, order: readonly string[]): boolean {
  return DIMENSIONS.every((dimension) => {
    if (!constrains(condition, dimension)) {
      return true;
    }
    const level = levels[dimension];
    if (level === null) {
      return false;
    }
    const {exact, min, max} = bounds(condition, dimension);
    if (exact !== undefined && !parseSpec(exact).includes(level)) {
      return false;
    }
    const rank = order.indexOf(level);
    if (min !== undefined && (rank < 0 || rank < order.indexOf(min))) {
      return false;
    }
    if (max !== undefined && (rank < 0 || rank > order.indexOf(max))) {
      return false;
    }
    return true;
  });
}

/** The levels a condition mentions that are not in `order`: almost surely a typo in the MDX. */
export function unknownLevels(condition: LevelCondition, order: readonly string[]): string[] {
  return DIMENSIONS.flatMap((dimension) => {
    const {exact, min, max} = bounds(condition, dimension);
    const named = [...(exact === undefined ? [] : parseSpec(exact)), ...[min, max].filter((l) => l !== undefined)];
    return named.filter((level) => !order.includes(level));
  });
}
