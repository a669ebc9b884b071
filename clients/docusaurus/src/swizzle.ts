import type {SwizzleConfig} from '@docusaurus/types';

const safe = {eject: 'safe', wrap: 'safe'} as const;

/** What `docusaurus swizzle` may copy or wrap without a warning: the plugin's own visible parts. */
export function getSwizzleConfig(): SwizzleConfig {
  return {
    components: {
      'Hallpass/NavbarItem': {actions: safe, description: 'The "Sign in" link, or the reader\'s menu'},
      'Hallpass/SignInPage': {actions: safe, description: 'The sign-in page'},
      'Hallpass/SignUpPage': {actions: safe, description: 'The sign-up page'},
      'Hallpass/ProfilePage': {actions: safe, description: 'The profile page'},
      'Hallpass/AuthPage': {actions: safe, description: 'The frame of the three pages above'},
      'Hallpass/Field': {actions: safe, description: 'A labelled input with its error'},
      'Hallpass/FormMessage': {actions: safe, description: 'A message about a whole form'},
      'Hallpass/ProfileQuestions': {actions: safe, description: 'The profile questions, from the schema'},
      'Hallpass/PersonalizeChapter': {actions: safe, description: 'The "Personalize this chapter" bar'},
      'Hallpass/ChatBox': {actions: safe, description: 'The chat box'},
      'Hallpass/Block': {actions: safe, description: 'The box a personalized block renders in'},
      'Hallpass/LevelSwitch': {actions: safe, description: 'One version of a passage per reader'},
      // Their static `hallpassRole` is how <LevelSwitch> finds its cases: a copy must keep it.
      'Hallpass/ForLevel': {actions: {eject: 'unsafe', wrap: 'unsafe'}},
      'Hallpass/Default': {actions: {eject: 'unsafe', wrap: 'unsafe'}},
    },
  };
}
