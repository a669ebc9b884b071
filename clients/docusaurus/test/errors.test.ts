import assert from 'node:assert/strict';
import {test} from 'node:test';
import {toFormErrors} from '../src/client/errors';

const SIGN_UP = ['name', 'email', 'password', 'software_background', 'hardware_background'];

test('email and password codes go to their fields', () => {
  assert.deepEqual(toFormErrors({code: 'INVALID_EMAIL', message: 'Invalid email', status: 400}, SIGN_UP), {
    email: 'Invalid email',
  });
  assert.deepEqual(
    toFormErrors({code: 'PASSWORD_TOO_SHORT', message: 'Password too short', status: 400}, SIGN_UP),
    {password: 'Password too short'},
  );
  assert.deepEqual(
    toFormErrors({code: 'USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL', message: 'User already exists', status: 422}, SIGN_UP),
    {email: 'User already exists'},
  );
});

test('a validation message naming a profile field goes to that field', () => {
  const message = 'hardware_background must be one of: none, beginner, intermediate, advanced';
  assert.deepEqual(toFormErrors({code: 'VALIDATION_ERROR', message, status: 400}, SIGN_UP), {
    hardware_background: message,
  });
});

test('a body path prefix places the message and is dropped from it', () => {
  assert.deepEqual(
    toFormErrors({code: 'VALIDATION_ERROR', message: '[body.email] Invalid email address', status: 400}, SIGN_UP),
    {email: 'Invalid email address'},
  );
});

test('a longer field name is not claimed by a shorter one', () => {
  const message = 'name_prefix must be at most 10 characters';
  assert.deepEqual(toFormErrors({code: 'VALIDATION_ERROR', message, status: 400}, ['name', 'name_prefix']), {
    name_prefix: message,
  });
});

test('wrong credentials stay on the form, not on a field', () => {
  assert.deepEqual(
    toFormErrors({code: 'INVALID_EMAIL_OR_PASSWORD', message: 'Invalid email or password', status: 401}, [
      'email',
      'password',
    ]),
    {form: 'Invalid email or password'},
  );
});

test('no answer at all reads as an unreachable server', () => {
  assert.match(toFormErrors({}, SIGN_UP).form ?? '', /cannot be reached/);
});
