/** The local CacheBlobStore: answers too large for one store item, as files under <dataDir>/cache/blobs/. */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CacheBlobStore } from '../core/cache/ports';

export class FileCacheBlobStore implements CacheBlobStore {
  constructor(private readonly dir: string) {}

  async put(id: string, bytes: Uint8Array): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // Ids are hex digests; anything else is refused rather than joined into a path.
    if (!/^[0-9a-f]{16,128}$/.test(id)) throw new Error('cache blob ids are hex digests');
    const file = join(this.dir, `${id}.json.gz`);
    await writeFile(file, bytes, { mode: 0o600 });
    return pathToFileURL(file).href;
  }

  async get(ref: string): Promise<Uint8Array> {
    return readFile(this.pathOf(ref));
  }

  async delete(ref: string): Promise<void> {
    await rm(this.pathOf(ref), { force: true });
  }

  /** Only files inside this store's folder are ever read or removed. */
  private pathOf(ref: string): string {
    const path = fileURLToPath(ref);
    if (!path.startsWith(join(this.dir, '/'))) throw new Error('cache blob reference outside the cache folder');
    return path;
  }
}
