import {createAuthClient} from 'better-auth/react';
import {inferAdditionalFields} from 'better-auth/client/plugins';
import {forgetJwt, rememberJwt} from './jwt';
import {useHallpassConfig} from './config';

function createHallpassClient(baseURL: string) {
  return createAuthClient({
    baseURL,
    fetchOptions: {
      // hallpass lives on another origin (another port at least): send its cookie along.
      credentials: 'include',
      onResponse: (context) => {
        // Whoever signs in, up or out, the JWT held for the previous reader is not theirs.
        if (/\/(sign-in|sign-up|sign-out)(\/|$)/.test(new URL(context.response.url).pathname)) {
          forgetJwt();
        }
        // get-session hands out a fresh JWT in a header; keeping it saves the chat box a request.
        const jwt = context.response.headers.get('set-auth-jwt');
        if (jwt) {
          rememberJwt(jwt);
        }
      },
    },
    plugins: [
      // The default profile fields, typed on `session.user`. Fields a deployment adds are there at run
      // time too (the client passes unknown fields through), only untyped.
      inferAdditionalFields({
        user: {
          software_background: {type: 'string', required: false},
          hardware_background: {type: 'string', required: false},
        },
      }),
    ],
  });
}

/** The official Better Auth React client, set up for a hallpass server. */
export type HallpassAuthClient = ReturnType<typeof createHallpassClient>;

/** The signed-in user as get-session returns it. */
export type HallpassUser = NonNullable<
  HallpassAuthClient['$Infer']['Session']
>['user'];

// One client per hallpass URL for the page's lifetime: every component shares its session store, so a
// page makes one get-session request however many components read the session.
const clients = new Map<string, HallpassAuthClient>();

/** The shared client for `baseURL` (the Better Auth API root, e.g. `https://auth.example.com/api/auth`). */
export function getAuthClient(baseURL: string): HallpassAuthClient {
  let client = clients.get(baseURL);
  if (!client) {
    client = createHallpassClient(baseURL);
    clients.set(baseURL, client);
  }
  return client;
}

/** The shared client for the site's hallpass server. */
export function useAuthClient(): HallpassAuthClient {
  return getAuthClient(useHallpassConfig().authBaseURL);
}
