'use strict';
// CloudSmith's file-trace cache for Next.js builds, preloaded (NODE_OPTIONS=--require) into a build's Node
// processes when CLOUDSMITH_NEXT_TRACE_CACHE names its file. No dependencies on purpose: it runs in the app's
// sandbox, under the app's own Node.js.
//
// `next build` traces its own server runtime with @vercel/nft on every build ("Collecting build traces"): it
// parses about 100 MB of node_modules JavaScript to learn which files a standalone server needs, and keeps
// nothing between builds. nft takes a `cache` whose analysisCache holds each file's parse result (what it
// requires and imports, the assets it names). This keeps that map in the build's .next/cache, so a redeploy
// parses only what changed:
//   - only files under node_modules/ whose assets all lie under node_modules/ are kept: an app file's result,
//     or one naming a path in the app, is made again on every build;
//   - a kept result is used only while the file's content hash matches, and all of them are dropped when a
//     lockfile, the Next.js version, Node.js or the trace's options change;
//   - which file each require resolves to is always worked out against the tree as it is.
// So the traced files, and what ships, are the same with or without it. Anything failing here leaves the build
// to Next.js alone.

const Module = require('node:module');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const CACHE_FILE = process.env.CLOUDSMITH_NEXT_TRACE_CACHE;
const NFT = 'next/dist/compiled/@vercel/nft';
const FORMAT = 1;
const LOCKFILES = ['package-lock.json', 'npm-shrinkwrap.json', 'pnpm-lock.yaml', 'yarn.lock', 'bun.lock'];
/** The per-route traces Next.js runs while compiling are a few files each: only the server trace is reported. */
const REPORT_FROM_FILES = 100;

const sha = (data) => createHash('sha256').update(data).digest('hex');
const NODE_MODULES = `${path.sep}node_modules${path.sep}`;

/** Inside a dependency, which nothing writes during a build (tools' caches in node_modules/.cache excepted). */
function inDependency(file) {
  return file.includes(NODE_MODULES) && !file.includes(`${NODE_MODULES}.cache${path.sep}`);
}

/** What the parse results depend on besides each file's own content. */
function cacheKey(opts, nextVersion) {
  const cwd = opts.processCwd || opts.base || process.cwd();
  const locks = LOCKFILES.map((name) => {
    try {
      return `${name}:${sha(fs.readFileSync(path.join(cwd, name)))}`;
    } catch {
      return `${name}:-`;
    }
  });
  const { base, processCwd, mixedModules, analysis, conditions, exportsOnly, paths, ts } = opts;
  const options = JSON.stringify({ base, processCwd, mixedModules, analysis, conditions, exportsOnly, paths, ts });
  return sha([FORMAT, process.version, nextVersion, options, ...locks].join('\n'));
}

function load(key) {
  try {
    const stored = JSON.parse(fs.readFileSync(CACHE_FILE, 'utf8'));
    if (stored.key === key && stored.entries && typeof stored.entries === 'object') return stored.entries;
  } catch {
    // No cache yet, or one this version cannot read: start empty.
  }
  return {};
}

/** Merged with what another process of the same build saved meanwhile, and renamed into place whole. */
function save(key, entries) {
  const tmp = `${CACHE_FILE}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(CACHE_FILE), { recursive: true });
    fs.writeFileSync(tmp, JSON.stringify({ key, entries: { ...load(key), ...entries } }));
    fs.renameSync(tmp, CACHE_FILE);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

/** nft's analysisCache, answering from the stored results, each checked against the file's content when asked. */
class CheckedAnalysisCache extends Map {
  constructor(stored) {
    super();
    this.stored = stored;
    this.hashes = new Map();
    this.reused = 0;
  }

  hashOf(file) {
    let hash = this.hashes.get(file);
    if (hash === undefined) {
      try {
        hash = sha(fs.readFileSync(file));
      } catch {
        hash = null;
      }
      this.hashes.set(file, hash);
    }
    return hash;
  }

  get(file) {
    const live = super.get(file);
    if (live !== undefined) return live;
    const entry = this.stored[file];
    if (!entry || entry.hash !== this.hashOf(file)) return undefined;
    const analysis = {
      deps: new Set(entry.deps),
      imports: new Set(entry.imports),
      assets: new Set(entry.assets),
      isESM: entry.isESM,
    };
    super.set(file, analysis);
    this.reused++;
    return analysis;
  }

  /** The results worth keeping, as JSON. */
  keepable() {
    const kept = {};
    for (const [file, a] of super.entries()) {
      if (!inDependency(file) || ![...a.assets].every(inDependency)) continue;
      const hash = this.hashOf(file);
      if (hash)
        kept[file] = { hash, deps: [...a.deps], imports: [...a.imports], assets: [...a.assets], isESM: a.isESM };
    }
    return kept;
  }
}

/**
 * One answer per path for one trace, as nft's own file system cache gives when Next.js does not pass functions
 * of its own: nft asks readlink of every segment of every path it resolves (over 100,000 calls for a small app).
 * Dependencies only: .next is written while the trace runs.
 */
function oncePerDependencyPath(fn) {
  const answers = new Map();
  return function once(file) {
    if (!inDependency(file)) return fn.call(this, file);
    let answer = answers.get(file);
    if (answer === undefined) {
      answer = fn.call(this, file);
      answers.set(file, answer);
    }
    return answer;
  };
}

function withCache(trace, nextVersion) {
  return async function cachedNodeFileTrace(files, opts = {}) {
    let key;
    let cache;
    try {
      key = cacheKey(opts, nextVersion);
      cache = new CheckedAnalysisCache(load(key));
    } catch {
      return trace.call(this, files, opts);
    }
    const started = Date.now();
    const result = await trace.call(this, files, {
      ...opts,
      readlink: opts.readlink && oncePerDependencyPath(opts.readlink),
      stat: opts.stat && oncePerDependencyPath(opts.stat),
      cache: { ...opts.cache, analysisCache: cache },
    });
    save(key, cache.keepable());
    if (cache.size >= REPORT_FROM_FILES) {
      const took = ((Date.now() - started) / 1000).toFixed(1);
      process.stderr.write(
        `CloudSmith trace cache: ${cache.reused} of ${cache.size} files' analysis reused from the last build (${took} s)\n`,
      );
    }
    return result;
  };
}

if (CACHE_FILE) {
  const loadModule = Module._load;
  const wrapped = new WeakSet();
  Module._load = function loadWithTraceCache(request, parent, isMain) {
    const exports = loadModule.call(this, request, parent, isMain);
    if (request === NFT && exports && typeof exports.nodeFileTrace === 'function' && !wrapped.has(exports)) {
      wrapped.add(exports);
      try {
        const nextVersion = loadModule.call(this, 'next/package.json', parent, false).version;
        // The compiled module exports through getters: the property is redefined, not assigned.
        Object.defineProperty(exports, 'nodeFileTrace', {
          value: withCache(exports.nodeFileTrace, nextVersion),
          enumerable: true,
          configurable: true,
        });
      } catch {
        // Leave Next.js as it is.
      }
    }
    return exports;
  };
}
