/** Same rule as sandbox labels: an app's name becomes a directory name on disk and a key segment in S3. */
const SAFE_APP = /^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$/;

/** `app`, checked to be one plain path segment; anything else is refused before it reaches a path. */
export function cacheAppName(app: string): string {
  if (!SAFE_APP.test(app) || app.includes('..')) throw new Error(`invalid app name for the cache "${app}"`);
  return app;
}
