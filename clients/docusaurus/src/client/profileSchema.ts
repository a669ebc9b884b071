import {useEffect, useState} from 'react';
import {useHallpassConfig} from './config';

/** One profile question, as `GET /auth/profile-schema` describes it. */
export interface ProfileField {
  key: string;
  type: 'enum' | 'string' | 'number' | 'boolean';
  label: string;
  /** Allowed values of an enum, in order. */
  values: string[];
  /** Friendly labels of `values`, same order. */
  labels: string[];
  required: boolean;
  /** False for server-owned fields: shown nowhere in forms. */
  input: boolean;
  maxLength: number | null;
}

const LEVELS = ['none', 'beginner', 'intermediate', 'advanced'];
const LEVEL_LABELS = ['No experience', 'Beginner', 'Intermediate', 'Advanced'];

/** hallpass's default fields: used until the schema arrives, and when the server does not serve one. */
export const DEFAULT_PROFILE_FIELDS: ProfileField[] = [
  {
    key: 'software_background',
    type: 'enum',
    label: 'Software background',
    values: LEVELS,
    labels: LEVEL_LABELS,
    required: false,
    input: true,
    maxLength: null,
  },
  {
    key: 'hardware_background',
    type: 'enum',
    label: 'Hardware background',
    values: LEVELS,
    labels: LEVEL_LABELS,
    required: false,
    input: true,
    maxLength: null,
  },
];

const TYPES = new Set(['enum', 'string', 'number', 'boolean']);
const isStrings = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === 'string');

/** Reads the server's answer defensively: a field we cannot understand is dropped, not guessed at. */
export function parseProfileSchema(body: unknown): ProfileField[] | null {
  const fields = (body as {fields?: unknown} | null)?.fields;
  if (!Array.isArray(fields)) {
    return null;
  }
  return fields.flatMap((raw: unknown): ProfileField[] => {
    const f = raw as Record<string, unknown>;
    if (typeof f.key !== 'string' || typeof f.type !== 'string' || !TYPES.has(f.type)) {
      return [];
    }
    const values = isStrings(f.values) ? f.values : [];
    return [
      {
        key: f.key,
        type: f.type as ProfileField['type'],
        label: typeof f.label === 'string' && f.label ? f.label : f.key,
        values,
        labels: isStrings(f.labels) && f.labels.length === values.length ? f.labels : values,
        required: f.required === true,
        input: f.input !== false,
        maxLength: typeof f.maxLength === 'number' ? f.maxLength : null,
      },
    ];
  });
}

// One request per page load, shared by every component that asks.
const requests = new Map<string, Promise<ProfileField[]>>();

function loadProfileSchema(url: string): Promise<ProfileField[]> {
  let request = requests.get(url);
  if (!request) {
    request = fetch(url, {credentials: 'omit'})
      .then(async (response) => (response.ok ? parseProfileSchema(await response.json()) : null))
      .catch(() => null)
      .then((fields) => fields ?? DEFAULT_PROFILE_FIELDS);
    requests.set(url, request);
  }
  return request;
}

/**
 * The profile questions, read from hallpass at run time so that a schema change needs no site change.
 * Starts with the defaults (also what the server render uses) and switches once the answer is in.
 */
export function useProfileSchema(): {fields: ProfileField[]; loaded: boolean} {
  const {profileSchemaURL} = useHallpassConfig();
  const [state, setState] = useState({fields: DEFAULT_PROFILE_FIELDS, loaded: false});
  useEffect(() => {
    let live = true;
    void loadProfileSchema(profileSchemaURL).then((fields) => {
      if (live) {
        setState({fields, loaded: true});
      }
    });
    return () => {
      live = false;
    };
  }, [profileSchemaURL]);
  return state;
}

/** The friendly label of `value` for the field `key` ("beginner" → "Beginner"). */
export function labelOf(fields: ProfileField[], key: string, value: string): string {
  const field = fields.find((f) => f.key === key);
  const i = field ? field.values.indexOf(value) : -1;
  if (field && i >= 0) {
    return field.labels[i] ?? value;
  }
  const j = LEVELS.indexOf(value);
  return j >= 0 ? LEVEL_LABELS[j]! : value.charAt(0).toUpperCase() + value.slice(1);
}
