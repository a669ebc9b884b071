// Runs before `npm start` and `npm run build`: refreshes this site's copy of docusaurus-plugin-hallpass
// from ../../clients/docusaurus. npm installs that folder as a copy (install-links in .npmrc) once, and
// does not notice later changes to it while its version stays the same; the bundler's cache does not
// either (it trusts node_modules), so it is cleared whenever the copy changes.
import {cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const site = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const source = path.resolve(site, '../../clients/docusaurus');
const copy = path.join(site, 'node_modules', 'docusaurus-plugin-hallpass');

if (!existsSync(path.join(source, 'lib', 'index.js'))) {
  console.error(`docusaurus-plugin-hallpass is not built: run "npm install" in ${path.relative(process.cwd(), source) || '.'}`);
  process.exit(1);
}
if (!existsSync(copy)) {
  console.error('docusaurus-plugin-hallpass is not installed here: run "npm install" first');
  process.exit(1);
}

/** Every file under `dir`, relative to it, with its contents. */
function snapshot(dir) {
  const files = new Map();
  const walk = (sub) => {
    for (const name of readdirSync(path.join(dir, sub))) {
      const rel = path.join(sub, name);
      if (statSync(path.join(dir, rel)).isDirectory()) {
        walk(rel);
      } else {
        files.set(rel, readFileSync(path.join(dir, rel)));
      }
    }
  };
  walk('');
  return files;
}

const shipped = ['lib', 'src', 'package.json'];
const same = shipped.every((entry) => {
  const from = path.join(source, entry);
  const to = path.join(copy, entry);
  if (!existsSync(to)) {
    return false;
  }
  if (statSync(from).isFile()) {
    return readFileSync(from).equals(readFileSync(to));
  }
  const a = snapshot(from);
  const b = snapshot(to);
  return a.size === b.size && [...a].every(([rel, bytes]) => b.get(rel)?.equals(bytes));
});

if (!same) {
  for (const entry of shipped) {
    rmSync(path.join(copy, entry), {recursive: true, force: true});
    cpSync(path.join(source, entry), path.join(copy, entry), {recursive: true});
  }
  rmSync(path.join(site, 'node_modules', '.cache'), {recursive: true, force: true});
  console.log('docusaurus-plugin-hallpass: refreshed from clients/docusaurus');
}
