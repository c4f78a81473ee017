/** Routing parts of the config schema: groups, cooldowns, stream limits; each problem names its field. */
import { ConfigError, validateConfig } from '../../../lambda/core/config';

const providers = { a: { type: 'mock' }, b: { type: 'mock' } };

function problemsOf(input: unknown): string[] {
  try {
    validateConfig(input);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('routing config validation', () => {
  test('a load-balanced group as a fallback target, cooldowns and stream limits are accepted', () => {
    expect(
      problemsOf({
        providers,
        models: {
          m: {
            targets: [
              {
                strategy: 'loadbalance',
                weight: 2,
                targets: [
                  { provider: 'a', model: 'x', weight: 3 },
                  { provider: 'b', model: 'y' },
                ],
              },
              { provider: 'b', model: 'z' },
            ],
            cooldown: { failures: 2, cooldownMs: 5_000 },
          },
        },
        settings: { cooldown: { failures: 0 }, streamMaxDurationMs: 600_000, timeouts: { idleMs: 60_000 } },
      }),
    ).toEqual([]);
  });

  test('a bad field inside a nested group is named by its path', () => {
    expect(
      problemsOf({
        providers,
        models: {
          m: {
            targets: [
              {
                strategy: 'roundrobin',
                targets: [
                  { provider: 'nope', model: 'x' },
                  { provider: 'a', model: 'x', weight: -1 },
                ],
              },
            ],
          },
        },
      }),
    ).toEqual([
      'models.m.targets[0].strategy must be "fallback" or "loadbalance"',
      "models.m.targets[0].targets[0].provider 'nope' is not defined in providers",
      'models.m.targets[0].targets[1].weight must be a number >= 0',
    ]);
  });

  test('group and target fields are not mixed; empty groups are rejected', () => {
    expect(
      problemsOf({
        providers,
        models: {
          m: {
            targets: [
              { provider: 'a', model: 'x', targets: [] },
              { provider: 'a', model: 'x', strategy: 'loadbalance' },
            ],
          },
        },
      }),
    ).toEqual([
      'models.m.targets[0] is a group (it has "targets") and may not also set provider/model',
      'models.m.targets[0].targets must be a non-empty list',
      'models.m.targets[1].strategy is only allowed on a group (an entry with "targets")',
    ]);
  });

  test('cooldown and stream settings are checked where they stand', () => {
    expect(
      problemsOf({
        providers,
        models: { m: { targets: [{ provider: 'a', model: 'x', timeouts: { routeMs: 5 } }], cooldown: { failures: 1.5, cooldownMs: 0, after: 3 } } },
        settings: { cooldown: 'often', streamMaxDurationMs: -1, timeouts: { idleMs: 'long' } },
      }),
    ).toEqual([
      'models.m.targets[0].timeouts.routeMs applies to a whole route: set it on the route or in settings.timeouts',
      'models.m.cooldown.after is not a known cooldown setting (failures, cooldownMs)',
      'models.m.cooldown.failures must be an integer >= 0 (0 disables cooldowns)',
      'models.m.cooldown.cooldownMs must be a positive number of milliseconds',
      'settings.timeouts.idleMs must be a positive number of milliseconds',
      'settings.cooldown must be an object',
      'settings.streamMaxDurationMs must be a positive number of milliseconds',
    ]);
  });
});
