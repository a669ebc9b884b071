import {usePluginData} from '@docusaurus/useGlobalData';
import type {GlobalData} from '../types';

/** The plugin's name, under which its global data is published (see ../index.ts). */
export const PLUGIN_NAME = 'docusaurus-plugin-hallpass';

/** The plugin's options as the browser sees them (set by the Node side at build time). */
export function useHallpassConfig(): GlobalData {
  return usePluginData(PLUGIN_NAME) as GlobalData;
}
