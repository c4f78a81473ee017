/** The Responses API wire types, for the endpoint's modules (defined once in lambda/apischema, which providers import too). */
export type * from '../../../apischema/responses';
export { TERMINAL_EVENT_TYPES } from '../../../apischema/responses';
