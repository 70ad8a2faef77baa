// The HTML a browser sees during consent: a small "Allow / Deny" page and an error page for
// requests Zendesk would refuse without redirecting (unknown client, unregistered redirect URI).

import { escapeHtml } from './http';

export interface ConsentPageInput {
  subdomain: string;
  clientId: string;
  scope: string;
  userName: string;
  userEmail: string;
  userRole: string;
  /** Posted back unchanged when the user decides. */
  hidden: Record<string, string>;
}

export function renderConsentPage(p: ConsentPageInput): string {
  const inputs = Object.entries(p.hidden)
    .map(([k, v]) => `    <input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n');
  const scopes = p.scope
    .split(' ')
    .filter(Boolean)
    .map((s) => `<li><code>${escapeHtml(s)}</code></li>`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Allow access to ${escapeHtml(p.subdomain)}? · Zendesk sandbox</title></head>
<body>
  <h1>${escapeHtml(p.clientId)} wants to access your Zendesk account</h1>
  <p>Workspace: <strong>${escapeHtml(p.subdomain)}</strong>. Signed in as
     <strong>${escapeHtml(p.userName)}</strong> &lt;${escapeHtml(p.userEmail)}&gt; (${escapeHtml(p.userRole)}).</p>
  <p>Requested scopes:</p>
  <ul>${scopes}</ul>
  <form id="consent" method="post" action="/${escapeHtml(p.subdomain)}/oauth/authorizations">
${inputs}
    <button type="submit" name="decision" value="allow" id="allow">Allow</button>
    <button type="submit" name="decision" value="deny" id="deny">Deny</button>
  </form>
</body>
</html>
`;
}

export function renderErrorPage(title: string, message: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)} · Zendesk sandbox</title></head>
<body>
  <h1>${escapeHtml(title)}</h1>
  <p>${escapeHtml(message)}</p>
</body>
</html>
`;
}
