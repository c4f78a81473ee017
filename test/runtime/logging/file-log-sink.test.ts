/** The local sink: date-partitioned private JSONL files; a record it cannot write goes to the fallback. */
import { mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLogSink } from '../../../lambda/adapters/file-log-sink';
import { FALLBACK_MARKER, fallbackLine } from '../../../lambda/adapters/log-fallback';
import type { RequestLogRecord } from '../../../lambda/core/log-record';
import { readLogRecords } from './log-capture';
import { sampleRecord } from './sample-record';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'gw-sink-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('records land in dt=YYYY-MM-DD partitions by their ts, in private files, in write order', async () => {
  const sink = new FileLogSink(join(dir, 'logs'));
  const a = { ...sampleRecord('a'), ts: '2026-11-23T23:59:59.999Z' };
  const b = sampleRecord('b');
  const c = sampleRecord('c');
  for (const r of [a, b, c]) void sink.write(r);
  await sink.flush();
  expect(readdirSync(join(dir, 'logs')).sort()).toEqual(['dt=2026-11-23', 'dt=2026-11-24']);
  expect(readLogRecords(join(dir, 'logs'))).toEqual([a, b, c]);
  const part = join(dir, 'logs', 'dt=2026-11-24');
  expect(statSync(part).mode & 0o777).toBe(0o700);
  expect(statSync(join(part, readdirSync(part)[0])).mode & 0o777).toBe(0o600);
  await sink.close();
});

test('a record that cannot be written reaches the fallback, and later writes still work', async () => {
  const logs = join(dir, 'logs');
  const fallen: { record: RequestLogRecord; reason: string }[] = [];
  const errors: unknown[] = [];
  const sink = new FileLogSink(
    logs,
    (e) => errors.push(e),
    (record, reason) => fallen.push({ record, reason }),
  );
  writeFileSync(logs, 'not a folder'); // the partition folder cannot be created (works as root too, unlike chmod)
  sink.write(sampleRecord('lost?'));
  await sink.flush(); // a turn's records are written when the turn ends
  expect(errors).toHaveLength(1);
  expect(fallen.map((f) => f.record)).toEqual([sampleRecord('lost?')]);
  expect(fallen[0].reason).toMatch(/writing the log file failed/);
  rmSync(logs);
  sink.write(sampleRecord('next'));
  await sink.flush();
  expect(readLogRecords(logs).map((r) => r.request_id)).toEqual(['next']);
  await sink.close();
});

test('a fallback line is one marked JSON line holding the record', () => {
  const line = fallbackLine(sampleRecord('x'), 'disk full');
  expect(line.endsWith('\n')).toBe(true);
  expect(JSON.parse(line)).toEqual({ [FALLBACK_MARKER]: 1, reason: 'disk full', record: sampleRecord('x') });
});

test('a log file deleted while the gateway runs is recreated within a second, and close() releases the file', async () => {
  let now = 0;
  const logs = join(dir, 'logs');
  const sink = new FileLogSink(logs, undefined, undefined, () => now);
  sink.write(sampleRecord('first'));
  await sink.flush();
  const part = join(logs, 'dt=2026-11-24');
  const [file] = readdirSync(part);
  const openFds = () =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith(part);
      } catch {
        return false;
      }
    }).length;
  expect(openFds()).toBe(1); // reused across batches, not reopened per batch
  rmSync(join(part, file));
  now += 1000;
  sink.write(sampleRecord('after-delete'));
  await sink.flush();
  expect(readLogRecords(logs).map((r) => r.request_id)).toEqual(['after-delete']);
  await sink.close();
  expect(openFds()).toBe(0);
});
