/**
 * The browser side of docusaurus-plugin-hallpass, for theme components and for a site's own code:
 * `import {useReader} from 'docusaurus-plugin-hallpass/client'`.
 */
export {PLUGIN_NAME, useHallpassConfig} from './config';
export {getAuthClient, useAuthClient} from './authClient';
export type {HallpassAuthClient, HallpassUser} from './authClient';
export {useReader, usePersonalization, useChapterKey} from './reader';
export type {Reader, SessionStatus, Personalization} from './reader';
export {useChapterChoice, setChapterChoice} from './chapterChoice';
export type {ChapterChoice} from './chapterChoice';
export {DIMENSIONS, NO_LEVELS, matches, constrains, unknownLevels} from './levels';
export type {Levels, LevelSpec, LevelCondition} from './levels';
export {useProfileSchema, parseProfileSchema, labelOf, DEFAULT_PROFILE_FIELDS} from './profileSchema';
export type {ProfileField} from './profileSchema';
export {toFormErrors} from './errors';
export type {AuthError, FormErrors} from './errors';
export {getJwt, forgetJwt} from './jwt';
export {useSignInHref, safeRedirect} from './navigation';
export type {Dimension, GlobalData} from '../types';
export {useWarnUnknownLevels} from './warnings';
export {useFocusFirstError, useRedirectTarget} from './forms';
export {askChatbot, ChatError} from './chat';
export type {ChatAnswer} from './chat';
