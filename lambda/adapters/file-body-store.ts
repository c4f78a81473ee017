/** The local BodyStore: oversized bodies as files under <dataDir>/logs/bodies/dt=YYYY-MM-DD/<request_id>.json. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BodyStore } from '../core/log-record';
import { bodyObjectKey } from './s3-body-store';

export class FileBodyStore implements BodyStore {
  constructor(private readonly dir: string) {}

  async put(record: { request_id: string; ts: string }, bodies: { request_body: string | null; response_body: string | null }): Promise<string> {
    const file = join(this.dir, bodyObjectKey('', record));
    await mkdir(join(file, '..'), { recursive: true, mode: 0o700 });
    await writeFile(file, JSON.stringify({ request_id: record.request_id, ...bodies }), { mode: 0o600 });
    return pathToFileURL(file).href;
  }
}
