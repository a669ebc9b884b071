// Measures what docusaurus-plugin-hallpass adds to the site's JavaScript: builds this site as it is and
// a copy without the plugin (its MDX components replaced by stubs that render nothing), then compares
// the gzip size of the scripts every page loads (runtime and main), and of all the JavaScript emitted
// (which adds the chunks of the sign-in, sign-up and profile pages, loaded only there).
//
// Usage: node scripts/measure-plugin-size.mjs   (after npm install; takes about a minute)
import {execFileSync} from 'node:child_process';
import {cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {gzipSync} from 'node:zlib';

const site = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const work = mkdtempSync(path.join(tmpdir(), 'hallpass-size-'));
const PAGE = 'chapters/microcontrollers/index.html';

function build(dir, out) {
  rmSync(path.join(site, 'node_modules', '.cache'), {recursive: true, force: true});
  try {
    execFileSync(path.join(site, 'node_modules', '.bin', 'docusaurus'), ['build', '--out-dir', out], {
      cwd: dir,
      stdio: 'pipe',
    });
  } catch (error) {
    console.error(String(error.stdout), String(error.stderr));
    throw error;
  }
}

const gz = (file) => gzipSync(readFileSync(file), {level: 9}).length;

/** Gzip bytes of the scripts a page's HTML loads, of main.js, and of every .js file in the build. */
function measure(out) {
  const html = readFileSync(path.join(out, PAGE), 'utf8');
  const scripts = [...html.matchAll(/<script[^>]+src="?([^" >]+\.js)/g)].map((m) => m[1]);
  const page = scripts.reduce((sum, src) => sum + gz(path.join(out, src)), 0);
  const jsDir = path.join(out, 'assets', 'js');
  const files = readdirSync(jsDir).filter((f) => f.endsWith('.js'));
  const all = files.reduce((sum, f) => sum + gz(path.join(jsDir, f)), 0);
  const main = files.find((f) => f.startsWith('main.'));
  return {page, all, main: main ? gz(path.join(jsDir, main)) : 0};
}

// The site without the plugin: same content, the plugin's line gone, stub components.
const bare = path.join(work, 'bare');
for (const entry of readdirSync(site)) {
  if (!['node_modules', 'build', '.docusaurus', 'scripts'].includes(entry)) {
    cpSync(path.join(site, entry), path.join(bare, entry), {recursive: true});
  }
}
const config = readFileSync(path.join(bare, 'docusaurus.config.ts'), 'utf8')
  .replace(/^\s*plugins: \[\['docusaurus-plugin-hallpass'.*$/m, '')
  .replace(/^.*type: 'custom-hallpass'.*$/m, '')
  .replace(/^import type \{Options as HallpassOptions\}.*$/m, '')
  // The footer links to the plugin's pages, which are gone.
  .replace("onBrokenLinks: 'throw'", "onBrokenLinks: 'ignore'");
writeFileSync(path.join(bare, 'docusaurus.config.ts'), config);
mkdirSync(path.join(bare, 'src', 'theme'), {recursive: true});
writeFileSync(
  path.join(bare, 'src', 'theme', 'MDXComponents.js'),
  `import MDXComponents from '@theme-original/MDXComponents';
const Nothing = () => null;
export default {...MDXComponents, ForLevel: Nothing, Default: Nothing, LevelSwitch: Nothing, ChatBox: Nothing, PersonalizeChapter: Nothing};
`,
);
// Resolve packages from this site's node_modules (the plugin there goes unused).
symlinkSync(path.join(site, 'node_modules'), path.join(bare, 'node_modules'));

build(site, path.join(work, 'with'));
build(bare, path.join(work, 'without'));
const withPlugin = measure(path.join(work, 'with'));
const without = measure(path.join(work, 'without'));
rmSync(work, {recursive: true, force: true});

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log('gzip (level 9)            with plugin   without     added');
for (const [label, key] of [
  ['main.js', 'main'],
  ['every page (runtime+main)', 'page'],
  ['whole build, all JS', 'all'],
]) {
  console.log(
    `${label.padEnd(26)}${kb(withPlugin[key]).padStart(11)}${kb(without[key]).padStart(11)}${kb(withPlugin[key] - without[key]).padStart(10)}`,
  );
}
