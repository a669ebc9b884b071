// npm test: compiles the unit tests (test/*.ts) with the pure modules they import to CommonJS, then
// runs them with node's test runner.
import {execFileSync} from 'node:child_process';
import {readdirSync, rmSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.join(root, '.test-build');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(out, {recursive: true, force: true});
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.test.json')], {stdio: 'inherit'});
// The package's own type is CommonJS already; say so for the build folder in case that changes.
writeFileSync(path.join(out, 'package.json'), '{"type": "commonjs"}\n');
const tests = readdirSync(path.join(out, 'test'))
  .filter((f) => f.endsWith('.test.js'))
  .map((f) => path.join(out, 'test', f));
execFileSync(process.execPath, ['--test', '--test-reporter=spec', ...tests], {stdio: 'inherit'});
