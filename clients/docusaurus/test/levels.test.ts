import assert from 'node:assert/strict';
import {test} from 'node:test';
import {matches, unknownLevels, type Levels} from '../src/client/levels';

const ORDER = ['none', 'beginner', 'intermediate', 'advanced'];
const reader = (software: string | null, hardware: string | null): Levels => ({software, hardware});

test('a condition on nothing matches every reader, known or not', () => {
  assert.equal(matches({}, reader(null, null), ORDER), true);
  assert.equal(matches({}, reader('advanced', 'none'), ORDER), true);
});

test('an exact level matches that level only', () => {
  assert.equal(matches({software: 'beginner'}, reader('beginner', null), ORDER), true);
  assert.equal(matches({software: 'beginner'}, reader('advanced', null), ORDER), false);
});

test('several levels can be given as a list or in one string', () => {
  for (const spec of [['none', 'beginner'], 'none beginner', 'none,beginner', 'none|beginner']) {
    assert.equal(matches({hardware: spec}, reader(null, 'none'), ORDER), true);
    assert.equal(matches({hardware: spec}, reader(null, 'beginner'), ORDER), true);
    assert.equal(matches({hardware: spec}, reader(null, 'intermediate'), ORDER), false);
  }
});

test('min and max compare positions in the level order, inclusive', () => {
  const condition = {minSoftware: 'beginner', maxSoftware: 'intermediate'};
  assert.deepEqual(
    ORDER.map((level) => matches(condition, reader(level, null), ORDER)),
    [false, true, true, false],
  );
});

test('every condition given must hold', () => {
  const condition = {software: 'advanced', maxHardware: 'beginner'};
  assert.equal(matches(condition, reader('advanced', 'none'), ORDER), true);
  assert.equal(matches(condition, reader('advanced', 'advanced'), ORDER), false);
});

test('a reader without a level in a named dimension does not match, whatever the condition', () => {
  assert.equal(matches({software: 'none'}, reader(null, 'advanced'), ORDER), false);
  assert.equal(matches({maxSoftware: 'advanced'}, reader(null, null), ORDER), false);
  // A dimension the condition does not name may be unknown.
  assert.equal(matches({hardware: 'advanced'}, reader(null, 'advanced'), ORDER), true);
});

test('a stored level outside the order still matches exactly, but never by rank', () => {
  assert.equal(matches({software: 'expert'}, reader('expert', null), ORDER), true);
  assert.equal(matches({minSoftware: 'none'}, reader('expert', null), ORDER), false);
});

test('levels no reader can have are reported', () => {
  assert.deepEqual(unknownLevels({software: 'beginer', maxHardware: 'advanced'}, ORDER), ['beginer']);
  assert.deepEqual(unknownLevels({software: ['none', 'beginner']}, ORDER), []);
});
