/**
 * Values shorter than this are not masked: masking "1" or "true" would shred unrelated log text,
 * and such values are not secrets anyway.
 */
export const MIN_SECRET_LENGTH = 6;
export const MASK = '••••••';
/** Lines of a multi-line secret at least this long are masked on their own too. */
const PART_MIN_LENGTH = 12;
/** Values shorter than this show no character at all in previews. */
const PREVIEW_MIN_LENGTH = 16;

/** The forms a secret may take in output: as given, and with CRLF line ends turned into LF (and back). */
export function secretForms(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    forms.add(secret);
    forms.add(secret.replace(/\r\n/g, '\n'));
    forms.add(secret.replace(/\r?\n/g, '\r\n'));
    // A multi-line secret printed only in part (or reflowed) still has its long lines masked one by one; PEM armour
    // lines ("-----BEGIN ...") are not secret and would garble unrelated output.
    for (const line of secret.split(/\r?\n/)) {
      if (line !== secret && line.length >= PART_MIN_LENGTH && !line.startsWith('-----')) forms.add(line);
    }
  }
  // Longest first, so a secret containing another is masked whole.
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

/** Masks every occurrence of every secret, including ones spanning several lines. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  return maskForms(text, secretForms(secrets));
}

function maskForms(text: string, forms: readonly string[]): string {
  let out = text;
  for (const secret of forms) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  return out;
}

/** What the API shows for an env value: that it is set, and for long values their last two characters. */
export function previewSecret(value: string): string {
  if (value.length < PREVIEW_MIN_LENGTH) return MASK;
  return `${MASK}${value.slice(-2)}`;
}

/**
 * Masks a stream of lines before they are stored or sent anywhere, treating it as the raw text it came from: a
 * multi-line secret (a PEM key) printed over several lines is masked whole. Lines that could be the start of such
 * a secret are held back until the next line settles it, or until `end()`.
 */
export class LineStreamMasker {
  private held = '';
  private forms: string[] = [];
  /** For each multi-line secret: the text of each of its lines but the last, to spot a possible start cheaply. */
  private multiLine: Array<{ secret: string; lines: string[] }> = [];

  setSecrets(secrets: readonly string[]): void {
    this.forms = secretForms(secrets);
    this.multiLine = this.forms
      .filter((s) => s.includes('\n'))
      .map((secret) => ({ secret, lines: secret.split('\n').slice(0, -1) }));
  }

  get holding(): boolean {
    return this.held.length > 0;
  }

  /** Takes one line (without its line end); returns the masked lines that may leave now. */
  push(line: string): string[] {
    // The usual case: nothing held and no secret spans lines, so the line is masked on its own.
    if (!this.held && this.multiLine.length === 0) return [maskForms(line, this.forms)];
    // Held text stays raw until released, so a secret completed by this line is still found whole.
    const text = `${this.held}${line}\n`;
    const keepFrom = this.possibleStart(text);
    this.held = text.slice(keepFrom);
    return keepFrom === 0 ? [] : splitLines(maskForms(text.slice(0, keepFrom), this.forms));
  }

  /** Everything held, masked (a secret's start printed without its end still has its long lines masked). */
  end(): string[] {
    const text = this.held;
    this.held = '';
    return text ? splitLines(maskForms(text, this.forms)) : [];
  }

  /** Where the earliest line that may begin an unfinished multi-line secret starts; text.length when none. */
  private possibleStart(text: string): number {
    let start = text.length;
    const last = text.slice(text.lastIndexOf('\n', text.length - 2) + 1, -1);
    for (const { secret, lines } of this.multiLine) {
      // The text so far ends with a line end; it may hold the secret's first k lines (and their line ends).
      for (let k = lines.length; k >= 1; k--) {
        const prefix = `${lines.slice(0, k).join('\n')}\n`;
        if (prefix.length >= secret.length) continue;
        const line = lines[k - 1] ?? '';
        if (k === 1 ? !last.endsWith(line) : last !== line) continue;
        if (!text.endsWith(prefix)) continue;
        const at = text.length - prefix.length;
        start = Math.min(start, text.lastIndexOf('\n', at - 1) + 1);
        break;
      }
    }
    return start;
  }
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
