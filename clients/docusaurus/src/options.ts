import {Joi} from '@docusaurus/utils-validation';
import type {OptionValidationContext} from '@docusaurus/types';
import type {Options, PluginOptions} from './types';

/** The profile fields and levels hallpass ships with (DESIGN.md, "Profile fields are configuration"). */
export const DEFAULT_OPTIONS: Omit<PluginOptions, 'id' | 'url'> = {
  authBasePath: '/api/auth',
  chatbotUrl: null,
  routeBasePath: '/',
  pages: true,
  chapterControl: true,
  fields: {software: 'software_background', hardware: 'hardware_background'},
  levels: ['none', 'beginner', 'intermediate', 'advanced'],
};

// Trailing slashes are dropped so that the browser side can append paths without doubling them.
const httpUrl = Joi.string()
  .uri({scheme: ['http', 'https']})
  .replace(/\/+$/, '');

const OptionsSchema = Joi.object<PluginOptions>({
  url: httpUrl.required(),
  authBasePath: Joi.string()
    .pattern(/^\//, 'a path starting with /')
    .replace(/\/+$/, '')
    .default(DEFAULT_OPTIONS.authBasePath),
  chatbotUrl: httpUrl.allow(null).default(DEFAULT_OPTIONS.chatbotUrl),
  routeBasePath: Joi.string().default(DEFAULT_OPTIONS.routeBasePath),
  pages: Joi.boolean().default(DEFAULT_OPTIONS.pages),
  chapterControl: Joi.boolean().default(DEFAULT_OPTIONS.chapterControl),
  fields: Joi.object({
    software: Joi.string().default(DEFAULT_OPTIONS.fields.software),
    hardware: Joi.string().default(DEFAULT_OPTIONS.fields.hardware),
  }).default(DEFAULT_OPTIONS.fields),
  levels: Joi.array()
    .items(Joi.string())
    .min(1)
    .unique()
    .default(DEFAULT_OPTIONS.levels),
});

/** Validates the site's options and fills in the defaults (Docusaurus calls this before the plugin). */
export function validateOptions({
  validate,
  options,
}: OptionValidationContext<Options, PluginOptions>): PluginOptions {
  return validate(OptionsSchema, options);
}
