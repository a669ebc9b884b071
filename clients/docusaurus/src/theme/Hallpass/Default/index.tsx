import {type ReactNode} from 'react';
import HallpassBlock from '@theme/Hallpass/Block';
import {DIMENSIONS, usePersonalization, type Dimension} from 'docusaurus-plugin-hallpass/client';

export interface Props {
  /**
   * On its own, `<Default>` shows when the reader has no level in this dimension, or (without it) in
   * any dimension: signed-out readers, and readers who gave no answer. Inside a `<LevelSwitch>` it shows
   * when no `<ForLevel>` matched, and this prop is ignored.
   */
  dimension?: Dimension;
  inline?: boolean;
  children?: ReactNode;
}

/** The content for readers the page knows nothing about; also what the server render shows. */
function Default({dimension, inline, children}: Props): ReactNode {
  const {ready, levels} = usePersonalization();
  if (!ready) {
    return (
      <HallpassBlock state="pending" inline={inline}>
        {children}
      </HallpassBlock>
    );
  }
  const dimensions = dimension ? [dimension] : DIMENSIONS;
  if (!dimensions.every((d) => levels[d] === null)) {
    return null;
  }
  return (
    <HallpassBlock state="ready" inline={inline}>
      {children}
    </HallpassBlock>
  );
}

/** How `<LevelSwitch>` recognizes its fallback among its children. */
Default.hallpassRole = 'default' as const;

export default Default;
