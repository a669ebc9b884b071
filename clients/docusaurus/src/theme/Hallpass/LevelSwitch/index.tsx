import {Children, Fragment, isValidElement, type ReactElement, type ReactNode} from 'react';
import HallpassBlock from '@theme/Hallpass/Block';
import {
  matches,
  useHallpassConfig,
  usePersonalization,
  useWarnUnknownLevels,
  type LevelCondition,
} from 'docusaurus-plugin-hallpass/client';

export interface Props {
  inline?: boolean;
  /** `<ForLevel>` cases, tried in order, and one `<Default>` for everyone else. */
  children?: ReactNode;
}

type Role = 'case' | 'default';

function roleOf(node: ReactNode): Role | null {
  if (!isValidElement(node) || typeof node.type === 'string') {
    return null;
  }
  const role = (node.type as {hallpassRole?: unknown}).hallpassRole;
  return role === 'case' || role === 'default' ? role : null;
}

type Case = ReactElement<LevelCondition & {children?: ReactNode}>;

/**
 * Exactly one version of a passage: the first `<ForLevel>` the reader matches, else the `<Default>`.
 *
 * ```mdx
 * <LevelSwitch>
 *   <ForLevel software="none beginner">A variable is a named box...</ForLevel>
 *   <ForLevel minSoftware="intermediate">Bindings are immutable by default...</ForLevel>
 *   <Default>Variables hold values...</Default>
 * </LevelSwitch>
 * ```
 */
export default function LevelSwitch({inline, children}: Props): ReactNode {
  const {ready, levels} = usePersonalization();
  const {levels: order} = useHallpassConfig();
  const items = Children.toArray(children);
  const cases = items.filter((child) => roleOf(child) === 'case') as Case[];
  const fallback = items.filter((child) => roleOf(child) === 'default') as Case[];
  useWarnUnknownLevels(
    cases.map((c) => c.props),
    order,
  );
  const chosen = ready ? cases.find((c) => matches(c.props, levels, order)) : undefined;

  // The chosen case's children, not the case element itself: the switch already decided, and the case's
  // own check would only repeat it.
  const content = chosen
    ? chosen.props.children
    : fallback.map((child, i) => <Fragment key={i}>{child.props.children}</Fragment>);
  return (
    <HallpassBlock state={ready ? 'ready' : 'pending'} inline={inline} adapted={Boolean(chosen)}>
      {content}
    </HallpassBlock>
  );
}
