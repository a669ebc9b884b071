/**
 * Types shared by the plugin's Node side (options) and its browser side (global data). A declaration
 * file, so that neither build emits it: the build copies it into lib/ beside the compiled code.
 */

/** A personalization dimension: MDX components take a prop of this name (`software="beginner"`). */
export type Dimension = 'software' | 'hardware';

/** Options as a site writes them in docusaurus.config. */
export interface Options {
  /** Root URL of the hallpass server, e.g. `https://auth.example.com`. The one required option. */
  url: string;
  /** Where the Better Auth API lives on that server. */
  authBasePath?: string;
  /** Root URL of the chatbot backend that `<ChatBox>` posts to (`POST {chatbotUrl}/chat`). */
  chatbotUrl?: string | null;
  /** Base path of the sign-in, sign-up and profile pages inside the site. */
  routeBasePath?: string;
  /** Add the sign-in, sign-up and profile pages (turn off to bring your own). */
  pages?: boolean;
  /** Show the "Personalize this chapter" control at the top of every doc page. */
  chapterControl?: boolean;
  /** Which user field backs each dimension. */
  fields?: Partial<Record<Dimension, string>>;
  /** The levels, lowest first: `min`/`max` props compare positions in this list. */
  levels?: string[];
}

/** Options after validation: every default filled in. */
export interface PluginOptions {
  id: string;
  url: string;
  authBasePath: string;
  chatbotUrl: string | null;
  routeBasePath: string;
  pages: boolean;
  chapterControl: boolean;
  fields: Record<Dimension, string>;
  levels: string[];
}

/** What the Node side hands the browser through `setGlobalData`. */
export interface GlobalData {
  /** hallpass root URL, without a trailing slash. */
  url: string;
  /** Better Auth client base URL: `url + authBasePath`. */
  authBaseURL: string;
  /** `GET` this for the profile questions. */
  profileSchemaURL: string;
  chatbotUrl: string | null;
  /** Site paths of the plugin's pages (baseUrl included); null when `pages` is off. */
  routes: {signIn: string; signUp: string; profile: string} | null;
  chapterControl: boolean;
  fields: Record<Dimension, string>;
  levels: string[];
}
