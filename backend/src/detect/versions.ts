/**
 * Just enough of npm's and Python's version ranges to answer "does the host's toolchain satisfy what the
 * app asks for": comparisons (>=, <=, >, <, ==, =, !=), ~= (PEP 440), ^ and ~ (npm), x/* wildcards and bare
 * versions, joined by commas or spaces (all must hold) and `||` (any may hold).
 */
type Version = [number, number, number];

function parse(text: string): { v: Version; parts: number } | undefined {
  const m = /^v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?/.exec(text.trim());
  if (!m) return undefined;
  const nums = [m[1], m[2], m[3]].filter((p: string | undefined) => p !== undefined && /^\d+$/.test(p)).map(Number);
  return { v: [nums[0] ?? 0, nums[1] ?? 0, nums[2] ?? 0], parts: nums.length };
}

function cmp(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** The first version outside a prefix of `parts` numbers: 3.11 → 3.12.0, 20 → 21.0.0. */
function bump(v: Version, parts: number): Version {
  if (parts <= 1) return [v[0] + 1, 0, 0];
  if (parts === 2) return [v[0], v[1] + 1, 0];
  return [v[0], v[1], v[2] + 1];
}

function one(version: Version, clause: string): boolean {
  const m = /^(>=|<=|~=|==|!=|>|<|=|\^|~)?\s*(.+)$/.exec(clause);
  if (!m) return true;
  const op = m[1] as string | undefined;
  const target = parse(m[2]);
  if (!target) return true;
  const c = cmp(version, target.v);
  switch (op) {
    case '>=':
      return c >= 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '<':
      return c < 0;
    case '!=':
      return cmp(version, target.v) !== 0 || target.parts < 3;
    case '~=':
      return c >= 0 && cmp(version, bump(target.v, Math.max(1, target.parts - 1))) < 0;
    case '^':
      return c >= 0 && cmp(version, bump(target.v, target.v[0] === 0 ? 2 : 1)) < 0;
    case '~':
      return c >= 0 && cmp(version, bump(target.v, Math.min(2, target.parts))) < 0;
    default:
      // A bare or == version matches as a prefix: "3.11" is every 3.11.x, "20" every 20.x.
      return c >= 0 && cmp(version, bump(target.v, target.parts)) < 0;
  }
}

export function satisfies(version: string, range: string): boolean {
  const v = parse(version);
  if (!v) return false;
  return range.split('||').some((alt) => {
    const clauses = alt
      .replace(/(>=|<=|~=|==|!=|>|<|=|\^|~)\s+/g, '$1')
      .split(/[\s,]+/)
      .filter(Boolean);
    return clauses.every((clause) => clause === '*' || clause === 'x' || one(v.v, clause));
  });
}
