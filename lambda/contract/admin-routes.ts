/**
 * The admin API's routes (ARCHITECTURE §6, plus team limits, usage and the usage page's links):
 * method and path under /admin. The admin Lambda serves exactly these, and the construct creates
 * an IAM-authorized API Gateway method for each.
 */
export type AdminRoute = readonly [method: string, path: string];

export const ADMIN_ROUTES: readonly AdminRoute[] = [
  ['POST', 'keys'],
  ['GET', 'keys'],
  ['GET', 'keys/{id}'],
  ['PATCH', 'keys/{id}'],
  ['POST', 'keys/{id}/revoke'],
  ['POST', 'keys/{id}/rotate'],
  ['GET', 'keys/{id}/usage'],
  ['GET', 'teams/{team}'],
  ['PUT', 'teams/{team}'],
  ['GET', 'usage'],
  ['POST', 'ui-links'],
];

/** Admin routes that exist when the response cache does. */
export const CACHE_ADMIN_ROUTES: readonly AdminRoute[] = [['POST', 'cache/purge']];
