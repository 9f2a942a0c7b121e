import { UserFacingError } from '../../../domain/errors';

/**
 * What a build's secrets become on Jenkins: temporary credentials in the credentials plugin's XML (created
 * before the build and deleted after it, so the token and the env never travel as build parameters), and
 * the env encoded for jenkins/steps/lib.sh.
 */

export function usernamePasswordXml(id: string, username: string, password: string, description: string): string {
  return credentialXml('com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl', id, description, {
    username,
    password,
  });
}

export function secretTextXml(id: string, secret: string, description: string): string {
  return credentialXml('org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl', id, description, {
    secret,
  });
}

/** The app env as one line of NAME=base64(value) pairs, the format jenkins/steps/lib.sh decodes. */
export function encodeEnv(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([name, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        throw new UserFacingError(`env var name "${name}" is not a valid name`);
      return `${name}=${Buffer.from(value).toString('base64')}`;
    })
    .join(' ');
}

/** One global-scope credential of the plugin class `impl`, every value escaped. */
function credentialXml(impl: string, id: string, description: string, fields: Record<string, string>): string {
  return [
    `<${impl}>`,
    '  <scope>GLOBAL</scope>',
    `  <id>${xmlEscape(id)}</id>`,
    `  <description>${xmlEscape(description)}</description>`,
    ...Object.entries(fields).map(([name, value]) => `  <${name}>${xmlEscape(value)}</${name}>`),
    `</${impl}>`,
  ].join('\n');
}

function xmlEscape(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
