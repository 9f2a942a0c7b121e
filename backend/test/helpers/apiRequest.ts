export interface ApiResponse<T> {
  status: number;
  body: T;
}

/** One API call as a client makes it: Bearer token, JSON body; JSON answers parsed, JSON-lines and plain bodies left as text. */
export async function apiRequest<T>(
  baseUrl: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON-lines and plain bodies stay text
  }
  return { status: res.status, body: parsed as T };
}
