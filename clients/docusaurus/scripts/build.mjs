// Builds lib/ from src/: the Node side (CommonJS) and the browser side (ES modules) with their .d.ts,
// then copies what tsc does not emit: CSS modules and the hand-written declaration files.
import {execFileSync} from 'node:child_process';
import {cpSync, readdirSync, rmSync, statSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const src = path.join(root, 'src');
const lib = path.join(root, 'lib');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(lib, {recursive: true, force: true});
for (const project of ['tsconfig.json', 'tsconfig.browser.json']) {
  execFileSync(process.execPath, [tsc, '-p', path.join(root, project)], {stdio: 'inherit'});
}

function copyAssets(dir) {
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) {
      copyAssets(file);
    } else if (name.endsWith('.css') || name.endsWith('.d.ts')) {
      cpSync(file, path.join(lib, path.relative(src, file)));
    }
  }
}
copyAssets(src);
console.log('built lib/');
