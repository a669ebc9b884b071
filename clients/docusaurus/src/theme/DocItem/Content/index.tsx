import {type ReactNode} from 'react';
import Content from '@theme-init/DocItem/Content';
import type ContentType from '@theme/DocItem/Content';
import type {WrapperProps} from '@docusaurus/types';
import {useDoc} from '@docusaurus/plugin-content-docs/client';
import PersonalizeChapter from '@theme/Hallpass/PersonalizeChapter';
import {useHallpassConfig} from 'docusaurus-plugin-hallpass/client';

type Props = WrapperProps<typeof ContentType>;

/**
 * Puts "Personalize this chapter" at the top of doc pages. `@theme-init` (not `@theme-original`) is how a
 * plugin wraps a theme component: it is the classic theme's original whatever other plugins provide.
 * A page opts out with `personalize: false` in its front matter, a site with `chapterControl: false`.
 */
export default function ContentWrapper(props: Props): ReactNode {
  const {chapterControl} = useHallpassConfig();
  const {frontMatter} = useDoc();
  const wanted = chapterControl && (frontMatter as {personalize?: unknown}).personalize !== false;
  return (
    <>
      {wanted && <PersonalizeChapter />}
      <Content {...props} />
    </>
  );
}
