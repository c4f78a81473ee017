/**
 * Where the prebuilt Lambda bundles are, from source (lib/private/*.ts under ts/swc) and from the
 * published build (dist/lib/private/*.js), and how the routing config ships inside the proxy's
 * asset (not in environment variables: Lambda caps those at 4 KB).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** dist/assets/<name>/index.js, seen from lib/private (source) or dist/lib/private (published). */
export function bundleDir(name: 'proxy' | 'admin' | 'virtual-key'): string {
  const candidates = [join(__dirname, '..', '..', 'dist', 'assets', name), join(__dirname, '..', '..', 'assets', name)];
  const found = candidates.find((dir) => existsSync(join(dir, 'index.js')));
  if (!found)
    throw new Error(
      `The prebuilt '${name}' Lambda bundle is missing (looked in ${candidates.join(', ')}). Run 'npm run build' (or 'node scripts/build.mjs') first.`,
    );
  return found;
}

/**
 * A directory holding the bundle plus extra files (the routing config), named by the hash of its
 * content: synth stays deterministic (same config → same asset hash → no redeploy) and offline.
 */
export function bundleWithFiles(name: 'proxy' | 'admin', files: Readonly<Record<string, string>>): string {
  const source = join(bundleDir(name), 'index.js');
  const code = readFileSync(source);
  const hash = createHash('sha256').update(code);
  for (const [file, content] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) hash.update(`\0${file}\0${content}`);
  const root = join(tmpdir(), 'cdk-ai-gateway-assets');
  const dir = join(root, `${name}-${hash.digest('hex').slice(0, 32)}`);
  if (existsSync(join(dir, 'index.js'))) return dir;
  // Build beside it and rename into place: a parallel synth never sees a half-written directory.
  mkdirSync(root, { recursive: true });
  const scratch = mkdtempSync(join(root, `.${name}-`));
  for (const [file, content] of Object.entries(files)) writeFileSync(join(scratch, file), content);
  copyFileSync(source, join(scratch, 'index.js'));
  try {
    renameSync(scratch, dir);
  } catch {
    // Another synth put the same content there first; an incomplete leftover is replaced.
    if (!existsSync(join(dir, 'index.js'))) {
      rmSync(dir, { recursive: true, force: true });
      renameSync(scratch, dir);
    } else rmSync(scratch, { recursive: true, force: true });
  }
  return dir;
}
