/**
 * A package-lock.json for the package test's fresh CDK app, cut from this checkout's own lockfile:
 * the app's dependencies (aws-cdk-lib, constructs, and the packed tarball) with everything they
 * need, at the versions this checkout installed and tested. `npm ci` of the app then fetches each
 * package exactly as the checkout's `npm ci` did, so the npm cache that install filled serves it:
 * no registry look-up to resolve a version range, and no drift to a newer release mid-run.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Where Node would find `name` required from the package installed at `from` ('' is the root). */
function resolveIn(packages, from, name) {
  let dir = from;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!dir) return undefined;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut < 0 ? '' : dir.slice(0, cut);
  }
}

/** The lockfile entry as the app sees it: what was a dev dependency of the checkout is a dependency there. */
function asAppEntry(entry) {
  const { dev, devOptional, peer, ...rest } = entry;
  return rest;
}

/**
 * @param {object} opts
 * @param {string} opts.rootLockPath this checkout's package-lock.json
 * @param {Record<string, string>} opts.rootDependencies the app's other dependencies, name to exact version
 * @param {{ name: string, version: string, dependencies?: Record<string, string>, peerDependencies?: Record<string, string>, bin?: Record<string, string>, engines?: Record<string, string>, license?: string }} opts.pkg the packed package.json
 * @param {string} opts.tarballPath the tarball on disk
 * @param {string} opts.tarballSpec how the app's package.json names it (file:…)
 */
export function appLockfile({ rootLockPath, rootDependencies, pkg, tarballPath, tarballSpec }) {
  const source = JSON.parse(readFileSync(rootLockPath, 'utf8')).packages;
  const packages = {
    '': { name: 'my-cdk-app', dependencies: { ...rootDependencies, [pkg.name]: tarballSpec } },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version,
      resolved: tarballSpec,
      integrity: `sha512-${createHash('sha512').update(readFileSync(tarballPath)).digest('base64')}`,
      license: pkg.license,
      dependencies: pkg.dependencies,
      peerDependencies: pkg.peerDependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  // Breadth-first over what each included package requires, resolved as Node would in the checkout's tree.
  const queue = [
    ...Object.keys(rootDependencies).map((name) => ['', name]),
    ...Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies }).map((name) => ['', name]),
  ];
  while (queue.length > 0) {
    const [from, name] = queue.shift();
    const at = resolveIn(source, from, name);
    if (!at) throw new Error(`the checkout's lockfile has no ${name} (needed from '${from || 'the app'}')`);
    if (packages[at]) continue;
    const entry = source[at];
    packages[at] = asAppEntry(entry);
    // Bundled dependencies come inside their parent's tarball; the lockfile lists them under it.
    for (const [path, nested] of Object.entries(source)) if (nested.inBundle && path.startsWith(`${at}/node_modules/`)) packages[path] = asAppEntry(nested);
    const optionalPeers = entry.peerDependenciesMeta ?? {};
    const wanted = [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}).filter((n) => resolveIn(source, at, n)),
      ...Object.keys(entry.peerDependencies ?? {}).filter((n) => !optionalPeers[n]?.optional),
    ];
    for (const dep of wanted) if (!entry.inBundle) queue.push([at, dep]);
  }
  return { name: 'my-cdk-app', lockfileVersion: 3, requires: true, packages };
}
