import MDXComponents from '@theme-init/MDXComponents';
import ForLevel from '@theme/Hallpass/ForLevel';
import Default from '@theme/Hallpass/Default';
import LevelSwitch from '@theme/Hallpass/LevelSwitch';
import PersonalizeChapter from '@theme/Hallpass/PersonalizeChapter';
import ChatBox from '@theme/Hallpass/ChatBox';

/**
 * The personalization components and the chat box, usable in every MDX file without an import. A site
 * that swizzles MDXComponents itself should spread `@theme-original/MDXComponents` to keep them.
 */
export default {
  ...MDXComponents,
  ForLevel,
  Default,
  LevelSwitch,
  PersonalizeChapter,
  ChatBox,
};
