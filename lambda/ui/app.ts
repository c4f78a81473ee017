/**
 * The usage page's script (ARCHITECTURE §16), bundled with uPlot into /ui/app.js at build time.
 * Everything it loads comes from the gateway itself; the credential lives in sessionStorage only.
 * Every value from the API is written with textContent: a model name, key name or user agent a
 * client chose is never parsed as HTML.
 */
import uPlot from 'uplot';

interface DayTotals {
  day: string;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  cacheHits: number;
  cacheSavedUsd: number;
}
interface Summary {
  fromDay: string;
  toDay: string;
  daily: DayTotals[];
  totals: Omit<DayTotals, 'day'> & { tokens: number; errorRate: number; cacheHitRate: number };
  models: { model: string; requests: number; tokens: number; costUsd: number }[];
  keys: { keyId: string; keyName: string; team: string | null; requests: number; errors: number; tokens: number; costUsd: number }[];
  recent: {
    id: string;
    ts: string;
    endpoint: string;
    model: string | null;
    status: number;
    latencyMs: number;
    tokens: number;
    costUsd: number;
    cache: string | null;
  }[];
}
interface KeyInfo {
  id: string;
  name: string;
  team: string | null;
}
interface UsageView {
  scope: 'key' | 'admin';
  days: number;
  key: (KeyInfo & { limits?: Record<string, unknown> | null }) | null;
  limits?: Record<string, unknown> | null;
  usage: Summary;
  team?: { name: string; usage: Summary } | null;
  filter?: { key: string | null; team: string | null };
}

const STORAGE = 'ai-gateway-usage-credential';
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const charts: uPlot[] = [];

const money = (usd: number) => (usd >= 100 ? `$${usd.toFixed(0)}` : usd >= 1 ? `$${usd.toFixed(2)}` : usd > 0 ? `$${usd.toPrecision(2)}` : '$0');
const whole = (n: number) => n.toLocaleString('en-US');
const percent = (r: number) => `${(r * 100).toFixed(r > 0 && r < 0.01 ? 2 : 1)}%`;

function say(message: string, tone: 'info' | 'error' = 'info'): void {
  const el = $('status');
  el.textContent = message;
  el.className = `status ${tone}`;
}

function cell(row: HTMLTableRowElement, text: string, numeric = false): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  if (numeric) td.className = 'num';
  return td;
}

function fillTable(id: string, rows: string[][], numericFrom = 1): void {
  const body = ($(id) as HTMLTableElement).tBodies[0];
  body.replaceChildren();
  if (!rows.length) {
    const tr = body.insertRow();
    const td = cell(tr, 'Nothing yet in this period.');
    td.colSpan = ($(id) as HTMLTableElement).tHead?.rows[0].cells.length ?? 1;
    return;
  }
  for (const r of rows) {
    const tr = body.insertRow();
    r.forEach((text, i) => {
      cell(tr, text, i >= numericFrom);
    });
  }
}

function tiles(id: string, s: Summary): void {
  const t = s.totals;
  const items: [string, string, string][] = [
    ['Spend', money(t.costUsd), `${s.fromDay} to ${s.toDay}`],
    ['Tokens', whole(t.tokens), `${whole(t.promptTokens)} in, ${whole(t.completionTokens)} out`],
    ['Requests', whole(t.requests), `${percent(t.errorRate)} failed`],
    ['Cache', percent(t.cacheHitRate), `answered from cache, saving ${money(t.cacheSavedUsd)}`],
  ];
  $(id).replaceChildren(
    ...items.map(([label, value, note]) => {
      const div = document.createElement('div');
      div.className = 'tile';
      const l = document.createElement('span');
      l.className = 'label';
      l.textContent = label;
      const v = document.createElement('span');
      v.className = 'value';
      v.textContent = value;
      const n = document.createElement('span');
      n.className = 'note';
      n.textContent = note;
      div.append(l, v, n);
      return div;
    }),
  );
}

function relative(iso: string): string {
  const ms = Date.parse(iso) - Date.now();
  if (!Number.isFinite(ms)) return '';
  if (ms <= 0) return 'now';
  const m = Math.round(ms / 60_000);
  if (m < 1) return 'in under a minute';
  if (m < 120) return `in ${m} min`;
  const h = Math.round(m / 60);
  return h < 48 ? `in ${h} h` : `in ${Math.round(h / 24)} days`;
}

/** The limits table from the limiter's view: each limit with what is left and when it resets. */
function limitRows(limits: Record<string, unknown>): string[][] {
  const rows: string[][] = [];
  const names: Record<string, string> = { rpm: 'Requests per minute', tpm: 'Tokens per minute', tokensPerDay: 'Tokens per day' };
  for (const [k, label] of Object.entries(names)) {
    const l = limits[k] as { limit: number | null; used: number; remaining: number | null; resetsAt: string } | undefined;
    if (l?.limit) rows.push([label, whole(l.limit), whole(l.used), whole(l.remaining ?? 0), relative(l.resetsAt)]);
  }
  const b = limits.budgetUsd as { limitUsd: number | null; period: string; spentUsd: number; remainingUsd: number | null; resetsAt: string } | undefined;
  if (b?.limitUsd) rows.push([`Budget per ${b.period}`, money(b.limitUsd), money(b.spentUsd), money(b.remainingUsd ?? 0), relative(b.resetsAt)]);
  return rows;
}

function chart(el: HTMLElement, days: string[], series: { label: string; values: number[]; color: string }[], fmt: (v: number) => string, bars = false): uPlot {
  const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
  const width = Math.max(260, el.clientWidth || 600);
  el.setAttribute('aria-label', series.map((s) => `${s.label}: ${fmt(s.values.reduce((a, b) => a + b, 0))} in total`).join('; '));
  const opts: uPlot.Options = {
    width,
    height: 220,
    series: [
      {},
      ...series.map((s) => ({
        label: s.label,
        stroke: s.color,
        fill: bars ? `${s.color}aa` : `${s.color}22`,
        width: bars ? 1 : 2,
        points: { show: !bars && days.length <= 31 },
        ...(bars ? { paths: uPlot.paths.bars?.({ size: [0.7, 40] }) } : {}),
        value: (_u: uPlot, v: number | null) => (v == null ? '' : fmt(v)),
      })),
    ],
    axes: [{}, { values: (_u: uPlot, ticks: number[]) => ticks.map(fmt), size: 80 }],
    // Half a day of room on each side, so the first and last day's bars are whole.
    scales: { x: { time: true, range: (_u: uPlot, min: number, max: number) => [min - 43_200, max + 43_200] } },
    cursor: { drag: { x: false, y: false } },
  };
  return new uPlot(opts, [xs, ...series.map((s) => s.values)], el);
}

function drawCharts(s: Summary): void {
  for (const c of charts.splice(0)) c.destroy();
  const days = s.daily.map((d) => d.day);
  charts.push(
    chart($('chart-spend'), days, [{ label: 'Spend', values: s.daily.map((d) => d.costUsd), color: '#2563eb' }], money, true),
    chart(
      $('chart-tokens'),
      days,
      [
        { label: 'Prompt', values: s.daily.map((d) => d.promptTokens), color: '#059669' },
        { label: 'Completion', values: s.daily.map((d) => d.completionTokens), color: '#d97706' },
      ],
      (v) => whole(Math.round(v)),
    ),
  );
}

function render(view: UsageView): void {
  const s = view.usage;
  const admin = view.scope === 'admin';
  $('who').hidden = false;
  $('who-text').textContent = admin ? 'Signed in as administrator' : `Key “${view.key?.name ?? ''}”${view.key?.team ? ` of team ${view.key.team}` : ''}`;
  $('scope-title').textContent = admin
    ? view.filter?.key
      ? `Key ${view.key?.name ?? view.filter.key}`
      : view.filter?.team
        ? `Team ${view.filter.team}`
        : 'Every key and team'
    : 'This key';
  $('admin-filter').hidden = !admin;
  // Shown before drawing: the charts size themselves to their (visible) containers.
  $('sign-in').hidden = true;
  $('report').hidden = false;
  tiles('tiles', s);
  drawCharts(s);

  const limits = admin ? view.key?.limits : view.limits;
  const lrows = limits ? limitRows(limits) : [];
  $('limits-section').hidden = lrows.length === 0;
  fillTable('limits', lrows);

  fillTable(
    'models',
    s.models.map((m) => [m.model, whole(m.requests), whole(m.tokens), money(m.costUsd)]),
  );

  const keyRows = (admin ? s.keys : (view.team?.usage.keys ?? [])).map((k) => [
    k.keyName,
    k.team ?? '',
    whole(k.requests),
    whole(k.errors),
    whole(k.tokens),
    money(k.costUsd),
  ]);
  $('keys-section').hidden = keyRows.length === 0 || (!admin && !view.team);
  fillTable('keys', keyRows, 2);

  $('team-section').hidden = !view.team;
  if (view.team) {
    $('team-title').textContent = `Team ${view.team.name}, all keys`;
    tiles('team-tiles', view.team.usage);
  }

  fillTable(
    'recent',
    s.recent.map((r) => [
      r.ts.replace('T', ' ').slice(0, 19),
      r.model ?? '',
      r.endpoint,
      r.status < 400 ? 'OK' : `Failed (${r.status})`,
      whole(r.tokens),
      money(r.costUsd),
      `${whole(r.latencyMs)} ms`,
      r.cache === 'hit' || r.cache === 'semantic-hit' ? 'from cache' : '',
    ]),
    4,
  );
}

/** Plain-language reasons for the answers a person can get wrong, instead of the API's JSON. */
function explain(status: number, code: string | undefined): string {
  if (status === 401) return 'That key or token was not recognised. Check that you copied all of it, or ask your platform team for the current key.';
  if (status === 403 && code === 'key_revoked') return 'That key has been revoked, so it no longer works. Ask your platform team for a new one.';
  if (status === 403 && code === 'key_expired') return 'That key has expired. Ask your platform team for a new one.';
  if (status === 403) return 'That key may not see this usage.';
  if (status === 404) return 'Nothing was found for that key or team.';
  if (status === 400) return 'The filter is not valid. Check the key id or team name.';
  return 'The gateway could not load the usage right now. Please try again in a moment.';
}

async function load(): Promise<void> {
  const credential = sessionStorage.getItem(STORAGE);
  if (!credential) {
    $('sign-in').hidden = false;
    $('report').hidden = true;
    $('who').hidden = true;
    return;
  }
  const params = new URLSearchParams({ days: ($('days') as HTMLSelectElement).value });
  const key = ($('filter-key') as HTMLInputElement).value.trim();
  const team = ($('filter-team') as HTMLInputElement).value.trim();
  if (key) params.set('key', key);
  if (team) params.set('team', team);
  say('Loading…');
  let res: Response;
  try {
    res = await fetch(`/v1/usage?${params}`, { headers: { authorization: `Bearer ${credential}` }, cache: 'no-store' });
  } catch {
    say('The gateway could not be reached. Check your connection and try again.', 'error');
    return;
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
    if (res.status === 401 || (res.status === 403 && !key && !team)) {
      sessionStorage.removeItem(STORAGE);
      $('sign-in').hidden = false;
      $('report').hidden = true;
      $('who').hidden = true;
    }
    say(explain(res.status, body.error?.code), 'error');
    return;
  }
  render((await res.json()) as UsageView);
  say('');
}

function init(): void {
  // A link from `ai-gateway ui-link` carries a short-lived admin session in the fragment, which
  // browsers never send to a server: keep it for this tab and take it out of the address bar.
  const m = /^#admin=([\w-]+)$/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(STORAGE, m[1]);
    history.replaceState(null, '', location.pathname);
  }
  $('sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('credential') as HTMLInputElement;
    const value = input.value.trim();
    if (!value) return;
    sessionStorage.setItem(STORAGE, value);
    input.value = '';
    void load();
  });
  $('sign-out').addEventListener('click', () => {
    sessionStorage.removeItem(STORAGE);
    for (const c of charts.splice(0)) c.destroy();
    say('Signed out.');
    void load();
    ($('credential') as HTMLInputElement).focus();
  });
  $('days').addEventListener('change', () => void load());
  $('filter-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void load();
  });
  let resize: number | undefined;
  window.addEventListener('resize', () => {
    clearTimeout(resize);
    resize = window.setTimeout(() => {
      for (const c of charts) {
        const el = c.root.parentElement;
        if (el) c.setSize({ width: Math.max(260, el.clientWidth), height: 220 });
      }
    }, 150);
  });
  void load();
}

init();
