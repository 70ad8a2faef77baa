// `npm run sandbox`: a standalone Zendesk sandbox with a demo workspace, for manual testing.

import { startDemoSandbox, DEMO_DEFAULTS } from './demo';

async function main(): Promise<void> {
  const port = Number(process.env.SANDBOX_PORT ?? 4010);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`SANDBOX_PORT must be a port number, got ${process.env.SANDBOX_PORT}`);
  }
  const { sandbox, workspace, client } = await startDemoSandbox({
    port,
    clientId: process.env.ZENDESK_CLIENT_ID || DEMO_DEFAULTS.clientId,
    clientSecret: process.env.ZENDESK_CLIENT_SECRET || DEMO_DEFAULTS.clientSecret,
    redirectUris: [process.env.SANDBOX_REDIRECT_URI || DEMO_DEFAULTS.redirectUri],
    consentMode: 'manual',
  });
  const lines = [
    `Zendesk sandbox listening on ${sandbox.url}`,
    `  ZENDESK_BASE_URL=${sandbox.baseUrlTemplate}`,
    `  workspace "${workspace.subdomain}": ${workspace.userCount()} users, ${workspace.ticketEventCount()} ticket events, owner ${workspace.ownerId}`,
    `  OAuth client: ${client.clientId} (redirect ${client.redirectUris.join(', ')})`,
    `  consent page: ${sandbox.url}/${workspace.subdomain}/oauth/authorizations/new`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const stop = () => {
    sandbox.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`zendesk sandbox failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
