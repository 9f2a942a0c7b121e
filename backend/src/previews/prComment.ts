/** The text of the one comment a pull request gets, rewritten in place as its preview moves along. */
export type CommentState =
  | { state: 'building'; sha: string }
  | { state: 'live'; sha: string; url: string }
  | { state: 'failed'; sha: string; error: string; logsUrl?: string }
  | { state: 'removed'; reason: string };

export function previewComment(app: string, s: CommentState): string {
  const head = `**CloudSmith preview** \`${app}\``;
  const line = (() => {
    switch (s.state) {
      case 'building':
        return `Building \`${s.sha.slice(0, 7)}\`…`;
      case 'live':
        return `Live at ${s.url} (commit \`${s.sha.slice(0, 7)}\`)`;
      case 'failed':
        return `Deploying \`${s.sha.slice(0, 7)}\` failed: ${oneLine(s.error)}${s.logsUrl ? ` ([logs](${s.logsUrl}))` : ''}`;
      case 'removed':
        return `Removed: ${s.reason}`;
    }
  })();
  return `${head}\n\n${line}\n\n<sub>This comment is updated on every push.</sub>`;
}

/** A build error can carry Markdown or many lines; the comment shows it as one short line. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[`<>]/g, "'").slice(0, 300);
}
