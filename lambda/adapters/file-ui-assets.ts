/** The usage page's files from a folder the build wrote (dist/ui locally, the asset's ui/ on Lambda), read once each. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { UiAssets } from '../core/usage/ui-assets';

export function fileUiAssets(dir: string): UiAssets {
  const cache = new Map<string, Promise<Buffer | undefined>>();
  return {
    read(name) {
      let file = cache.get(name);
      if (!file) {
        // Names come from the page's fixed list, never from a request path.
        file = readFile(join(dir, name)).catch(() => undefined);
        cache.set(name, file);
      }
      return file;
    },
  };
}

/** `ui/` beside the running bundle (dist/cli.js → dist/ui), or the checkout's dist/ui when run from source. */
export function defaultUiDir(): string {
  const beside = join(__dirname, 'ui');
  return existsSync(beside) ? beside : join(__dirname, '..', '..', 'dist', 'ui');
}
