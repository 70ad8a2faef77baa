// Public entry point of the Zendesk sandbox: an in-process fake of the parts of Zendesk's API the
// product uses, serving many workspaces under http://HOST:PORT/{subdomain}.

export { startSandbox, type Sandbox, type SandboxOptions } from './sandbox';
export { generateWorkspace } from './generator';
export { startDemoSandbox, DEMO_DEFAULTS, type DemoSandbox, type DemoSandboxOptions } from './demo';
export { PLAN_LIMITS } from './rateLimiter';
export { SandboxWorkspace, type WorkspaceOptions, type GrantInfo } from './workspace';
export type * from './types';
export { ADMIN_ROLE_ID } from './userGenerator';
export type { ErrorDialect } from './exportQuirks';
export type { UserCountEstimate } from './userCount';
