import {themes as prismThemes} from 'prism-react-renderer';
import type {Config} from '@docusaurus/types';
import type * as Preset from '@docusaurus/preset-classic';
import type {Options as HallpassOptions} from 'docusaurus-plugin-hallpass';

// Read at build time: the built site talks to these from the reader's browser.
const hallpassUrl = process.env.HALLPASS_URL || 'http://localhost:4000';
const chatbotUrl = process.env.CHATBOT_URL || 'http://localhost:8000';

const config: Config = {
  title: 'Robots from the Ground Up',
  tagline: 'A short robotics textbook that adapts to what you already know',
  favicon: 'img/favicon.ico',

  future: {
    v4: true,
  },

  // Where the site is published (used for the sitemap and social cards).
  url: process.env.SITE_URL || 'https://robots-textbook.example.com',
  baseUrl: '/',

  onBrokenLinks: 'throw',

  i18n: {
    defaultLocale: 'en',
    locales: ['en'],
  },

  presets: [
    [
      'classic',
      {
        docs: {
          routeBasePath: '/chapters',
          sidebarPath: './sidebars.ts',
        },
        blog: false,
        theme: {
          customCss: './src/css/custom.css',
        },
        // The sitemap stays on; the plugin's sign-in pages are noindex and so left out of it.
        sitemap: {
          changefreq: 'weekly',
        },
      } satisfies Preset.Options,
    ],
  ],

  plugins: [['docusaurus-plugin-hallpass', {url: hallpassUrl, chatbotUrl} satisfies HallpassOptions]],

  themeConfig: {
    colorMode: {
      respectPrefersColorScheme: true,
    },
    navbar: {
      title: 'Robots from the Ground Up',
      logo: {
        alt: 'Robots from the Ground Up',
        src: 'img/logo.svg',
      },
      items: [
        {
          type: 'docSidebar',
          sidebarId: 'textbook',
          position: 'left',
          label: 'Chapters',
        },
        // "Sign in", or the reader's name with Profile and Sign out.
        {type: 'custom-hallpass', position: 'right'},
      ],
    },
    footer: {
      style: 'dark',
      links: [
        {
          title: 'Textbook',
          items: [
            {label: 'Start reading', to: '/chapters/intro'},
            {label: 'Microcontrollers', to: '/chapters/microcontrollers'},
            {label: 'Sensors', to: '/chapters/sensors'},
            {label: 'Control loops', to: '/chapters/control'},
          ],
        },
        {
          title: 'Your account',
          items: [
            {label: 'Sign in', to: '/sign-in'},
            {label: 'Create an account', to: '/sign-up'},
            {label: 'Profile', to: '/profile'},
          ],
        },
      ],
      copyright: `An example site for hallpass. Built with Docusaurus.`,
    },
    prism: {
      theme: prismThemes.github,
      darkTheme: prismThemes.dracula,
      additionalLanguages: ['c', 'cpp'],
    },
  } satisfies Preset.ThemeConfig,
};

export default config;
