// Loads terraform/*.tf as JSON (hcl2json) and finds what each expression refers to.
const { readdirSync, readFileSync } = require('node:fs');
const path = require('node:path');

const hcl2json = require(process.env.HCL2JSON_DIR || '@cdktf/hcl2json');

/** Parses every .tf file; returns { files: {name: json}, merged } where merged holds every block type across files. */
async function loadTerraform(dir) {
  const files = {};
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.tf')).sort()) {
    files[name] = await hcl2json.parse(name, readFileSync(path.join(dir, name), 'utf8'));
  }
  const merged = { variable: {}, locals: {}, resource: {}, data: {}, module: {}, output: {}, provider: {}, terraform: [] };
  for (const json of Object.values(files)) {
    for (const [name, blocks] of Object.entries(json.variable ?? {})) merged.variable[name] = blocks[0];
    for (const [name, blocks] of Object.entries(json.output ?? {})) merged.output[name] = blocks[0];
    for (const [name, blocks] of Object.entries(json.module ?? {})) merged.module[name] = blocks[0];
    for (const [name, blocks] of Object.entries(json.provider ?? {})) merged.provider[name] = blocks[0];
    for (const block of json.locals ?? []) Object.assign(merged.locals, block);
    for (const kind of ['resource', 'data']) {
      for (const [type, byName] of Object.entries(json[kind] ?? {})) {
        merged[kind][type] ??= {};
        for (const [name, blocks] of Object.entries(byName)) merged[kind][type][name] = blocks[0];
      }
    }
    merged.terraform.push(...(json.terraform ?? []));
  }
  return { files, merged };
}

/** Every string anywhere in a parsed block (expressions come back as "${...}" strings). */
function strings(value, out = []) {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) strings(v, out);
  return out;
}

/** The text inside ${...} interpolations (balanced braces), where references live. */
function expressions(text) {
  const out = [];
  for (let i = text.indexOf('${'); i !== -1; i = text.indexOf('${', i + 2)) {
    let depth = 0;
    for (let j = i + 1; j < text.length; j++) {
      if (text[j] === '{') depth++;
      else if (text[j] === '}' && --depth === 0) {
        out.push(text.slice(i + 2, j));
        break;
      }
    }
  }
  return out;
}

/** References in one expression: var.x, local.x, data.t.n, module.m, and resources t.n (providers aws_ and random_). */
function references(expr) {
  const refs = { var: new Set(), local: new Set(), data: new Set(), module: new Set(), resource: new Set() };
  // Quoted literals inside an expression are not references.
  const code = expr.replace(/"(?:[^"\\]|\\.)*"/g, (lit) => expressions(lit).join(' '));
  for (const m of code.matchAll(/(?<![\w.])var\.([A-Za-z_][\w-]*)/g)) refs.var.add(m[1]);
  for (const m of code.matchAll(/(?<![\w.])local\.([A-Za-z_][\w-]*)/g)) refs.local.add(m[1]);
  for (const m of code.matchAll(/(?<![\w.])data\.([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)/g)) refs.data.add(`${m[1]}.${m[2]}`);
  for (const m of code.matchAll(/(?<![\w.])module\.([A-Za-z_][\w-]*)/g)) refs.module.add(m[1]);
  for (const m of code.matchAll(/(?<![\w.])((?:aws|random)_[\w]+)\.([A-Za-z_][\w-]*)/g)) refs.resource.add(`${m[1]}.${m[2]}`);
  return refs;
}

/** All references made anywhere in the configuration. */
function allReferences(merged) {
  const all = { var: new Set(), local: new Set(), data: new Set(), module: new Set(), resource: new Set() };
  for (const text of strings([merged.locals, merged.resource, merged.data, merged.module, merged.output, merged.provider, merged.variable])) {
    for (const expr of expressions(text)) {
      const refs = references(expr);
      for (const kind of Object.keys(all)) for (const r of refs[kind]) all[kind].add(r);
    }
  }
  return all;
}

module.exports = { loadTerraform, strings, expressions, references, allReferences };
