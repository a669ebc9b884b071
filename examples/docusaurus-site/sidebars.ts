import type {SidebarsConfig} from '@docusaurus/plugin-content-docs';

const sidebars: SidebarsConfig = {
  textbook: ['intro', 'microcontrollers', 'sensors', 'control'],
};

export default sidebars;
