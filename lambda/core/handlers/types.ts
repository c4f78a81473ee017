import type { RequestContext } from '../request-context';

/** An endpoint: the pipeline has created `ctx`; errors are thrown as GatewayError and rendered by the app. */
export type Handler = (req: Request, ctx: RequestContext) => Promise<Response>;
