/** Whether a parsed JSON value is an object (not null, not an array): the one check every validator of a JSON body starts with. */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
