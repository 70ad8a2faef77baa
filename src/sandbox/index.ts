// Public entry point of the Zendesk sandbox: an in-process fake of the parts of Zendesk's API the
// product uses, serving many workspaces under http://HOST:PORT/{subdomain}.

export { startSandbox, type Sandbox, type SandboxOptions } from './sandbox';
export { generateWorkspace } from './generator';
export { startDemoSandbox } from './demo';
export { SandboxWorkspace } from './workspace';
export type { WorkspaceOptions } from './workspaceTypes';
export type * from './types';
