/**
 * The usage page (ARCHITECTURE §16) in a real browser: headless Chromium (Debian's `chromium`,
 * driven by playwright-core) against the local gateway exactly as `npm start` runs it (the package's
 * bin, `ai-gateway dev`, in its own process on a config file and a fresh data dir), as an
 * application owner would use it.
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('usage page in headless Chromium', () => {
  let gw: GatewayProcess;
  let browser: Browser;
  let key: string;
  const shots = mkdtempSync(join(tmpdir(), 'usage-page-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'usage-page-gw-'));
  const adminToken = 'usage-page-admin-token';
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const ask = (model: string, content: string) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
    });

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: install Debian's chromium package (.ci/run does)`);
    const configPath = join(dataDir, 'gateway.config.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        providers: { mock: { type: 'mock' } },
        models: { 'mock-model': { targets: [{ provider: 'mock', model: 'mock-model' }] } },
        pricing: { 'mock/mock-model': { input: 2.5, output: 10 } },
      }),
    );
    gw = await startGatewayProcess({ PORT: '0', GATEWAY_DATA_DIR: dataDir, GATEWAY_CONFIG: configPath, GATEWAY_ADMIN_TOKEN: adminToken }, 30_000);
    // A key whose name is markup: the page must show it as text, never run it.
    const created = await admin('POST', '/admin/keys', { name: '<img src=x onerror="document.title=1">owner-app', team: 'search' });
    expect(created.status).toBe(201);
    key = created.body.key;
    for (let i = 0; i < 4; i++) {
      const res = await ask('mock-model', `question ${i}`);
      expect(res.status).toBe(200);
      await res.text();
    }
    expect((await ask('missing', 'x')).status).toBe(404);
    // The server gathers a second of requests per rollup write: wait until the five are counted.
    for (;;) {
      const usage = (await (await fetch(`${gw.url}/v1/usage?days=1`, { headers: { authorization: `Bearer ${key}` } })).json()) as any;
      if (usage.usage?.totals?.requests === 5) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('sign in with a key: totals, a chart, recent requests, and no request to any other host', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const origins = new Set<string>();
    page.on('request', (r) => origins.add(new URL(r.url()).origin));
    await page.goto(`${gw.url}/ui`);
    await page.getByLabel('Virtual key or admin token').fill(key);
    await page.getByRole('button', { name: 'Show usage' }).click();
    await page.locator('#report').waitFor({ state: 'visible' });

    const tiles = await page.locator('#tiles .tile').allInnerTexts();
    expect(tiles.find((t) => t.startsWith('Requests'))).toMatch(/Requests\s+5\s+20\.0% failed/);
    expect(tiles.find((t) => t.startsWith('Spend'))).toMatch(/\$\d/);
    // uPlot draws each chart on a canvas.
    expect(await page.locator('#chart-spend canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('#chart-tokens canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('#recent tbody tr').count()).toBe(5);
    expect(await page.locator('#models tbody').innerText()).toContain('mock/mock-model');
    // The key's markup name is text on the page; no element was made from it.
    expect(await page.locator('#who-text').innerText()).toContain('<img src=x');
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.title()).toBe('AI gateway usage');

    const shot = join(shots, 'usage-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    expect([...origins]).toEqual([gw.url]);
    await page.close();
  });

  test('a wrong key gets a plain-language message, not JSON', async () => {
    const page = await browser.newPage();
    await page.goto(`${gw.url}/ui`);
    await page.getByLabel('Virtual key or admin token').fill('sk-gw-wrongwrongwrongwrongwrongwrongwrongwrong');
    await page.keyboard.press('Enter');
    const status = page.locator('#status.error');
    await status.waitFor();
    const text = await status.innerText();
    expect(text).toContain('was not recognised');
    expect(text).not.toMatch(/[{}]/);
    expect(await page.locator('#sign-in').isVisible()).toBe(true);
    await page.close();
  });

  test('an admin link from ai-gateway ui-link opens every key and team, and leaves the address bar clean', async () => {
    const minted = await admin('POST', '/admin/ui-links', { ttlSeconds: 300 });
    const page = await browser.newPage();
    await page.goto(`${gw.url}${minted.body.path}`);
    await page.locator('#report').waitFor({ state: 'visible' });
    expect(await page.locator('#who-text').innerText()).toBe('Signed in as administrator');
    expect(await page.locator('#scope-title').innerText()).toBe('Every key and team');
    expect(await page.locator('#keys tbody tr').count()).toBe(1);
    // The session left the address bar (and so the history) as soon as the page took it.
    expect(page.url()).toBe(`${gw.url}/ui`);
    // Filter to one team with the keyboard-usable form.
    await page.getByLabel('Team').fill('search');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.locator('#scope-title', { hasText: 'Team search' }).waitFor();
    await page.close();
  });

  test('readable on a phone and usable with the keyboard alone', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    await page.goto(`${gw.url}/ui`);
    // Tab to the field, type, submit with Enter: no mouse.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('credential');
    await page.keyboard.type(key);
    await page.keyboard.press('Enter');
    await page.locator('#report').waitFor({ state: 'visible' });
    // Nothing wider than the screen: no sideways scrolling of the page itself.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(shots, 'usage-page-phone.png'), fullPage: true });
    await page.close();
  });
});
