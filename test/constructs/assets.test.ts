/** How the proxy asset is staged: the prebuilt bundle plus the routing config, content-addressed. */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleDir, bundleWithFiles } from '../../lib/private/assets';

describe('bundleWithFiles', () => {
  test('same bundle and files → same directory; different config → a different one', () => {
    const a = bundleWithFiles('proxy', { 'gateway.config.json': '{"providers":{"mock":{"type":"mock"}}}' });
    const again = bundleWithFiles('proxy', { 'gateway.config.json': '{"providers":{"mock":{"type":"mock"}}}' });
    const b = bundleWithFiles('proxy', { 'gateway.config.json': '{"providers":{"m2":{"type":"mock"}}}' });
    expect(again).toBe(a);
    expect(b).not.toBe(a);
    expect(readFileSync(join(a, 'index.js'))).toEqual(readFileSync(join(bundleDir('proxy'), 'index.js')));
    expect(readFileSync(join(b, 'gateway.config.json'), 'utf8')).toContain('m2');
  });

  test('an incomplete directory left by an interrupted synth is replaced', () => {
    const files = { 'gateway.config.json': `{"n":${Date.now()}}` };
    const dir = bundleWithFiles('proxy', files);
    rmSync(join(dir, 'index.js'));
    writeFileSync(join(dir, 'gateway.config.json'), 'partial');
    expect(bundleWithFiles('proxy', files)).toBe(dir);
    expect(existsSync(join(dir, 'index.js'))).toBe(true);
    expect(readFileSync(join(dir, 'gateway.config.json'), 'utf8')).toBe(files['gateway.config.json']);
    rmSync(dir, { recursive: true, force: true });
  });
});
