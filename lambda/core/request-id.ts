/** Request ids (`x-request-id`, the log record's `request_id`), made one way for the gateway and its admin API. */
import { randomUUID } from 'node:crypto';

export function newRequestId(): string {
  return 'req_' + randomUUID().replace(/-/g, '');
}
