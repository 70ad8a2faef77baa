import { escapeHtml, pageDocument } from './pageLayout';

/**
 * The hosted Connect page (the "new window" of the seed): who is asking, for what access in plain words, the
 * workspace field, the seed's advice, Submit. A plain form with no script: the product checks the workspace
 * with the API's own parser and answers with the same page and its reason inline, or sends the browser on to
 * Zendesk's consent page. Accessible: a label and hint for the field, the error tied to it
 * (aria-describedby, aria-invalid) and announced (role=alert), everything reachable by keyboard.
 */

export interface ConnectPageModel {
  /** Who is asking: the tenant's display name (else its name). */
  tenantName: string;
  access: 'read' | 'reclaim';
  /** Where the form posts (the page's own path). */
  action: string;
  /** What the field shows: the session's workspace, or what the admin typed. */
  workspace: string;
  /** Why the workspace typed is not one (the API's reason), or another problem with the Submit. */
  error?: string;
}

const ACCESS_WORDS: Record<ConnectPageModel['access'], string> = {
  read: 'read-only access to your Zendesk: your users, their roles and seats, and ticket activity, to report which paid seats are used. It cannot change anything in Zendesk.',
  reclaim:
    'access to read your users, their roles and seats, and ticket activity, and to change agents’ roles, so unused paid seats can be reclaimed — only seats someone approves, and each change can be undone.',
};

export function connectPage(m: ConnectPageModel): string {
  const name = escapeHtml(m.tenantName);
  const error = m.error ? `<p id="workspace-error" class="error" role="alert">${escapeHtml(m.error)}</p>` : '';
  const describedBy = m.error ? 'workspace-hint workspace-error' : 'workspace-hint';
  const invalid = m.error ? ' aria-invalid="true"' : '';
  return pageDocument(
    `Connect Zendesk · ${m.tenantName}`,
    `<main>
<p class="tile" aria-hidden="true">Zendesk</p>
<h1>Connect Zendesk to ${name}</h1>
<p><strong>${name}</strong> asks for ${escapeHtml(ACCESS_WORDS[m.access])}</p>
<form method="post" action="${escapeHtml(m.action)}" novalidate>
<label for="workspace">Your Zendesk workspace</label>
<p id="workspace-hint" class="hint">The name in your Zendesk address: for https://acme.zendesk.com it is <strong>acme</strong>. You may paste the whole address.</p>
<input type="text" id="workspace" name="workspace" value="${escapeHtml(m.workspace)}" required autocomplete="off" autocapitalize="none" spellcheck="false" aria-describedby="${describedBy}"${invalid}>
${error}
<button type="submit" id="submit">Submit</button>
</form>
<h2>Before you continue</h2>
<ul>
<li>Zendesk asks you to sign in and to allow access: sign in with an <strong>admin</strong> account. Only a Zendesk admin can approve it.</li>
<li>Use the account meant for integrations (a service account) rather than your personal one, so the connection keeps working when people change roles or leave.</li>
<li>Not sure of the workspace name? It is the first part of the address you open Zendesk at (<strong>acme</strong> in acme.zendesk.com), also shown in Zendesk Admin Center.</li>
</ul>
</main>`,
  );
}

/** The page of a link that cannot be used (unknown, expired, already used): what happened and what to do. */
export function connectLinkPage(title: string, message: string): string {
  return pageDocument(title, `<main><h1 class="failed">${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></main>`);
}
