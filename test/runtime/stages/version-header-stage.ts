/** A stage added the way any stage is: this one file, plus one line in the stage list. It stamps a header on every answer. */
import type { StageFactory } from '../../../lambda/core/stages/stage';

export const versionHeaderStage: StageFactory = () => async (_ctx, next) => {
  const res = await next();
  res.headers.set('x-gateway-version', 'test-1');
  return res;
};
