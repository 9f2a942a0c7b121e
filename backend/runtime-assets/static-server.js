#!/usr/bin/env node
'use strict';
// CloudSmith's static file server, copied into every static/SPA artifact so it runs anywhere Node does
// (the process runtime, a container, ECS). No dependencies on purpose.
//   node static-server.js <dir> [--spa]     PORT (default 8080), HOST (default 0.0.0.0)

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.bmp': 'image/bmp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.eot': 'application/vnd.ms-fontobject',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.ogg': 'audio/ogg',
};

function contentType(file) {
  return TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream';
}

function parseArgs(argv) {
  const args = argv.slice(2);
  const spa = args.includes('--spa');
  const dir = args.find((a) => !a.startsWith('--'));
  if (!dir) {
    process.stderr.write('usage: node static-server.js <dir> [--spa]\n');
    process.exit(2);
  }
  return { root: fs.realpathSync(path.resolve(dir)), spa };
}

function statOrNull(p) {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}

/** Maps a URL path to a file inside root, or null when it would leave root or touch a hidden file. */
function resolveInside(root, urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { error: 400 };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { error: 400 };
  const segments = decoded.split('/').filter(Boolean);
  if (segments.includes('..')) return { error: 403 };
  // Dotfiles (.env, .git, the platform's own .cloudsmith/) are never served; .well-known is the usual exception.
  if (segments.some((s) => s.startsWith('.') && s !== '.well-known')) return { error: 404 };
  const full = path.join(root, ...segments);
  if (full !== root && !full.startsWith(root + path.sep)) return { error: 403 };
  return { full, segments };
}

/** A symlink inside root must not lead outside it. */
function insideRoot(root, file) {
  try {
    const real = fs.realpathSync(file);
    return real === root || real.startsWith(root + path.sep);
  } catch {
    return false;
  }
}

function send(res, status, body, headers) {
  const text = body + '\n';
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

function sendFile(req, res, file, stat, status) {
  const lastModified = stat.mtime.toUTCString();
  const isHtml = /\.html?$/i.test(file);
  const headers = {
    'Content-Type': contentType(file),
    'Last-Modified': lastModified,
    // HTML points at the current asset names, so it must be revalidated; assets can be cached briefly.
    'Cache-Control': isHtml ? 'no-cache' : 'public, max-age=300',
    'X-Content-Type-Options': 'nosniff',
  };
  const since = req.headers['if-modified-since'];
  if (status === 200 && since && Date.parse(since) >= Math.floor(stat.mtimeMs / 1000) * 1000) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  headers['Content-Length'] = stat.size;
  res.writeHead(status, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = fs.createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

function handler(root, spa) {
  const indexFile = path.join(root, 'index.html');
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
      return;
    }
    const urlPath = (req.url || '/').split('?')[0].split('#')[0];
    const target = resolveInside(root, urlPath);
    if (target.error) {
      send(res, target.error, target.error === 400 ? 'bad request' : target.error === 403 ? 'forbidden' : 'not found');
      return;
    }
    let file = target.full;
    let stat = statOrNull(file);
    if (stat && stat.isDirectory()) {
      if (!urlPath.endsWith('/')) {
        // Relative links in the directory's index.html resolve against the URL, so it needs the slash.
        const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
        res.writeHead(301, { Location: urlPath + '/' + query, 'Content-Length': 0 });
        res.end();
        return;
      }
      file = path.join(file, 'index.html');
      stat = statOrNull(file);
    }
    if (stat && stat.isFile() && insideRoot(root, file)) {
      sendFile(req, res, file, stat, 200);
      return;
    }
    const last = target.segments[target.segments.length - 1] || '';
    // Client-side routes (/about, /users/42) have no extension; a missing /app.js must stay a 404.
    if (spa && !path.extname(last)) {
      const indexStat = statOrNull(indexFile);
      if (indexStat && indexStat.isFile()) {
        sendFile(req, res, indexFile, indexStat, 200);
        return;
      }
    }
    send(res, 404, 'not found');
  };
}

function main() {
  const { root, spa } = parseArgs(process.argv);
  const port = Number(process.env.PORT || 8080);
  const host = process.env.HOST || '0.0.0.0';
  const server = http.createServer(handler(root, spa));
  server.listen(port, host, () => {
    process.stdout.write(
      `static-server: serving ${root}${spa ? ' (SPA fallback to index.html)' : ''} on http://${host}:${port}\n`,
    );
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) main();

module.exports = { handler, contentType };
