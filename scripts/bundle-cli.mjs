// Bundles the CLI that bin/iocli.js runs: tsc's dist/commands/main.js and every module of ours it reaches, as CommonJS
// chunks in dist/cli/ (a chunk per lazily loaded part, so verbs and heavy modules still load only when used).
// Why: Node 20 runs ESM through an asynchronous loader that costs a networked read like `iocli offers` ~15 % of its
// start-up: the loader's own modules, fs/promises, and a resolve + async read + link per file, ~35 files per command.
// Loaded with require() the same code starts ~15 ms sooner on this kind of machine (bench/startup.mjs; README "Start-up").
// tsc's ESM output in dist/ stays what tests, benches and the coordinator process (dist/src/…) import.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist', 'cli');
// Small pure-ESM packages on the start-up path, bundled in: bs58's CommonJS build has another default-export shape.
const BUNDLED_PACKAGES = /^(bs58|base-x)(\/|$)/;

// Every module keeps its own location: `import.meta.url` stays the URL of tsc's file in dist/ (built first, so it is
// there), whatever chunk the module lands in. Paths relative to a module (`new URL('../x', import.meta.url)`, a
// createRequire, a search upwards) then resolve from the binary exactly as they do from dist/ and the sources.
const keepModuleLocation = {
  name: 'keep-module-location',
  transform(code, id) {
    if (!code.includes('import.meta.url') || id.includes(`${sep}node_modules${sep}`)) return null;
    const fromChunk = relative(outDir, id).split(sep).join('/');
    return { code: code.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromChunk)}, import.meta.url).href`), map: null };
  },
};

const isPackage = (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0');
const bundle = await rolldown({
  input: { main: join(root, 'dist', 'commands', 'main.js') },
  platform: 'node',
  plugins: [keepModuleLocation],
  external: (id) => isPackage(id) && !BUNDLED_PACKAGES.test(id),
  // A module both imported and lazily imported is simply in the importer's chunk: expected here, not worth a line.
  checks: { ineffectiveDynamicImport: false },
});
await bundle.write({ dir: outDir, format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: '[name]-[hash].cjs', cleanDir: true });
await bundle.close();

// A package the chunks require() when they load must be loadable by require() on every Node the package supports
// (engines: >= 20.5; require() of ES modules only came with 20.19): an ESM-only one has to stay a lazy `await import()`.
const requireFromRoot = createRequire(join(root, 'package.json'));
const problems = [];
for (const chunk of readdirSync(outDir).filter((name) => name.endsWith('.cjs'))) {
  const code = readFileSync(join(outDir, chunk), 'utf8');
  for (const [, specifier] of code.matchAll(/\brequire\("([^"]+)"\)/g)) {
    if (!isPackage(specifier) || specifier.startsWith('node:') || specifier === 'url') continue;
    let resolved;
    try {
      resolved = requireFromRoot.resolve(specifier);
    } catch (error) {
      problems.push(`${chunk}: require("${specifier}") fails: ${error.code ?? error.message}`);
      continue;
    }
    if (isEsmFile(resolved)) problems.push(`${chunk}: require("${specifier}") loads an ES module (${resolved})`);
  }
}
if (problems.length > 0) {
  console.error(`bundle-cli: ${problems.length} package(s) cannot be required; import them lazily with \`await import()\`:\n  ${[...new Set(problems)].join('\n  ')}`);
  process.exit(1);
}

/** .mjs, or .js under a package.json with "type": "module" (the nearest one decides). */
function isEsmFile(file) {
  if (file.endsWith('.mjs')) return true;
  if (!file.endsWith('.js')) return false;
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).type === 'module';
    } catch {
      // no package.json here: look further up
    }
  }
  return false;
}
