import * as vscode from 'vscode';

const PROVIDER = 'github';
/** A flag (never the token) in globalState. */
const SIGNED_OUT_KEY = 'cloudsmith.signedOut';
export const SCOPES = ['repo', 'read:user'];

/**
 * The GitHub session, via VS Code's own authentication API. The token is handed to the backend as a Bearer
 * header and to Octokit; the extension never logs or stores it.
 */
export class Auth implements vscode.Disposable {
  private session: vscode.AuthenticationSession | undefined;
  private readonly changed = new vscode.EventEmitter<vscode.AuthenticationSession | undefined>();
  readonly onDidChange = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly state: vscode.Memento) {
    this.subscription = vscode.authentication.onDidChangeSessions(async (e) => {
      if (e.provider.id !== PROVIDER) return;
      await this.refresh();
    });
  }

  get account(): string | undefined {
    return this.session?.account.label;
  }

  get signedIn(): boolean {
    return this.session !== undefined;
  }

  /** Silent: never prompts, so activation and refreshes never pop up a dialog. */
  async refresh(): Promise<vscode.AuthenticationSession | undefined> {
    const before = this.session?.id;
    this.session = this.state.get<boolean>(SIGNED_OUT_KEY)
      ? undefined
      : await vscode.authentication.getSession(PROVIDER, SCOPES, { createIfNone: false, silent: true }).then(
          (s) => s,
          () => undefined,
        );
    if (before !== this.session?.id) this.changed.fire(this.session);
    return this.session;
  }

  /** Prompts (only from an explicit Sign In action). */
  async signIn(): Promise<vscode.AuthenticationSession> {
    const session = await vscode.authentication.getSession(PROVIDER, SCOPES, { createIfNone: true });
    await this.state.update(SIGNED_OUT_KEY, undefined);
    const changed = this.session?.id !== session.id;
    this.session = session;
    if (changed) this.changed.fire(session);
    return session;
  }

  /**
   * VS Code lets only the provider remove a session, so signing out means CloudSmith stops using it (remembered
   * across restarts, until the next Sign In); the account itself stays in VS Code's Accounts menu.
   */
  async signOut(): Promise<void> {
    await this.state.update(SIGNED_OUT_KEY, true);
    this.session = undefined;
    this.changed.fire(undefined);
  }

  /** For the API client: the current token, or an error asking to sign in. */
  async token(): Promise<string> {
    const session = this.session ?? (await this.refresh());
    if (!session) throw new NotSignedInError();
    return session.accessToken;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

export class NotSignedInError extends Error {
  constructor() {
    super('Sign in with GitHub first (CloudSmith: Sign In).');
  }
}
