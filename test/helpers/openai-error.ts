/** Assertions for the documented error shape (ARCHITECTURE §5): {"error":{"message","type","code","param"}}. */

export interface OpenAiErrorBody {
  error: { message: string; type: string; code: string; param: string | null };
}

/** True when `body` is exactly the documented OpenAI error shape (no extra or missing fields). */
export function isOpenAiErrorBody(body: unknown): body is OpenAiErrorBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'error') return false;
  const e = (body as { error: unknown }).error as Record<string, unknown>;
  if (typeof e !== 'object' || e === null) return false;
  const ek = Object.keys(e).sort().join(',');
  return (
    ek === 'code,message,param,type' &&
    typeof e.message === 'string' &&
    e.message.length > 0 &&
    typeof e.type === 'string' &&
    typeof e.code === 'string' &&
    (e.param === null || typeof e.param === 'string')
  );
}

/** Assert an error response: status, JSON content type, a request id, the shape, and (optionally) the code. */
export async function expectOpenAiError(res: Response, status: number, code?: string): Promise<OpenAiErrorBody['error']> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`expected a JSON error body for HTTP ${res.status}, got: ${text.slice(0, 200)}`);
  }
  expect({ status: res.status, body }).toEqual({ status, body: expect.anything() });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(isOpenAiErrorBody(body)).toBe(true);
  const err = (body as OpenAiErrorBody).error;
  if (code) expect(err.code).toBe(code);
  return err;
}
