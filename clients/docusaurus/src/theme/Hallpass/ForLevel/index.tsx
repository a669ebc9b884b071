import {type ReactNode} from 'react';
import HallpassBlock from '@theme/Hallpass/Block';
import {
  matches,
  useHallpassConfig,
  usePersonalization,
  useWarnUnknownLevels,
  type LevelCondition,
} from 'docusaurus-plugin-hallpass/client';

export interface Props extends LevelCondition {
  /** Render inside a paragraph (`<span>`) instead of around blocks (`<div>`). */
  inline?: boolean;
  children?: ReactNode;
}

/**
 * Content for some readers only: `<ForLevel software="beginner">`, `<ForLevel minHardware="intermediate">`,
 * `<ForLevel software="none beginner" hardware="advanced">`. Every condition given must hold, and a reader
 * with no level in a named dimension (signed out, or no answer) does not match: give them a `<Default>`.
 * Inside a `<LevelSwitch>` only the first matching `<ForLevel>` shows.
 */
function ForLevel({children, inline, ...condition}: Props): ReactNode {
  const {ready, levels} = usePersonalization();
  const {levels: order} = useHallpassConfig();
  useWarnUnknownLevels(condition, order);
  // Until the session is known this renders as for a signed-out reader: nothing.
  if (!ready || !matches(condition, levels, order)) {
    return null;
  }
  return (
    <HallpassBlock state="ready" inline={inline} adapted>
      {children}
    </HallpassBlock>
  );
}

/** How `<LevelSwitch>` recognizes its cases among its children. */
ForLevel.hallpassRole = 'case' as const;

export default ForLevel;
