/** The Athena saved queries: built from the schema, each reading the log de-duplicated on request_id. */
import { col, dedupedRequests, logQueries } from '../../../lambda/contract/log-queries';
import { LOG_RECORD_FIELDS } from '../../../lambda/core/log-record';

const target = { database: 'gateway_logs', table: 'requests', days: 7 };

describe('log queries', () => {
  const queries = logQueries(target);

  test('answer the six questions, under stable names', () => {
    expect(queries.map((q) => q.name)).toEqual([
      'spend-by-key-per-day',
      'spend-by-user',
      'top-models-by-tokens',
      'error-rate-by-provider',
      'p95-latency-by-model',
      'fallback-rate',
    ]);
  });

  test.each(logQueries(target).map((q) => [q.name, q.sql]))('%s reads the de-duplicated, partition-pruned log', (_name, sql) => {
    expect(sql.startsWith(dedupedRequests(target))).toBe(true);
    expect(sql).toMatch(/\bFROM requests\b/);
  });

  test('the de-duplicating CTE keeps one row per request_id, prunes partitions and skips the bodies', () => {
    const cte = dedupedRequests(target);
    expect(cte).toContain('row_number() OVER (PARTITION BY "request_id" ORDER BY "ts")');
    expect(cte).toContain('WHERE copy_no = 1');
    expect(cte).toContain('FROM "gateway_logs"."requests"');
    expect(cte).toContain(`"dt" >= CAST(current_date - interval '7' day AS varchar)`);
    expect(cte).not.toContain('request_body');
    expect(cte).not.toContain('response_body');
  });

  test('every quoted identifier a query uses is a schema field or a name the query defines', () => {
    const fields = new Set(LOG_RECORD_FIELDS.map((f) => f.name as string));
    const own = new Set(['gateway_logs', 'requests', 'dt', 'day']);
    for (const q of queries) {
      for (const [, name] of q.sql.matchAll(/"([^"]+)"/g)) expect(fields.has(name) || own.has(name)).toBe(true);
    }
  });

  test('col() refuses a name that is not in the schema', () => {
    expect(() => col('cost' as never)).toThrow(/not a log record field/);
  });
});
