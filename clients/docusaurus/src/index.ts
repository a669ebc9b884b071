import {normalizeUrl} from '@docusaurus/utils';
import type {LoadContext, Plugin} from '@docusaurus/types';
import type {GlobalData, PluginOptions} from './types';

export {validateOptions} from './options';
export {getSwizzleConfig} from './swizzle';
export type {Dimension, GlobalData, Options, PluginOptions} from './types';

/** The plugin's name; the browser side reads its global data under it. */
export const PLUGIN_NAME = 'docusaurus-plugin-hallpass';

/**
 * hallpass for Docusaurus: the session through the official Better Auth React client, sign-in, sign-up
 * and profile pages inside the site's layout, a navbar item (`type: 'custom-hallpass'`), MDX components
 * that adapt a chapter to the reader's backgrounds, a "Personalize this chapter" control and a chat box.
 */
export default function pluginHallpass(
  context: LoadContext,
  options: PluginOptions,
): Plugin<void> {
  const {baseUrl} = context.siteConfig;
  const page = (name: string) => normalizeUrl([baseUrl, options.routeBasePath, name]);
  const routes = options.pages
    ? {signIn: page('sign-in'), signUp: page('sign-up'), profile: page('profile')}
    : null;

  return {
    name: PLUGIN_NAME,

    // Compiled theme components for the bundler, sources for `docusaurus swizzle`.
    getThemePath() {
      return '../lib/theme';
    },
    getTypeScriptThemePath() {
      return '../src/theme';
    },

    async contentLoaded({actions}) {
      const data: GlobalData = {
        url: options.url,
        authBaseURL: options.url + options.authBasePath,
        profileSchemaURL: `${options.url}/auth/profile-schema`,
        chatbotUrl: options.chatbotUrl,
        routes,
        chapterControl: options.chapterControl,
        fields: options.fields,
        levels: options.levels,
      };
      actions.setGlobalData(data);

      if (routes) {
        actions.addRoute({path: routes.signIn, component: '@theme/Hallpass/SignInPage', exact: true});
        actions.addRoute({path: routes.signUp, component: '@theme/Hallpass/SignUpPage', exact: true});
        actions.addRoute({path: routes.profile, component: '@theme/Hallpass/ProfilePage', exact: true});
      }
    },

    injectHtmlTags() {
      // Every page asks hallpass for the session as soon as it loads: open the connection early.
      return {
        headTags: [
          {
            tagName: 'link',
            attributes: {rel: 'preconnect', href: new URL(options.url).origin, crossorigin: 'use-credentials'},
          },
        ],
      };
    },
  };
}
