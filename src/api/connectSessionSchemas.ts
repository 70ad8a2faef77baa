import { z } from 'zod';
import { IntegrationAccessSchema } from './schemas';

/** Shapes of `POST /v1/connect-sessions` (the hosted Connect page's links). */

export const CreateConnectSessionBody = z.strictObject({
  workspace: z
    .string()
    .max(2048, 'must be at most 2048 characters')
    .optional()
    .describe(
      'The workspace the page starts with (`acme`, `acme.zendesk.com` or a pasted URL, as for `POST /v1/integrations/zendesk`); the admin may change it',
    ),
  access: IntegrationAccessSchema.optional(),
  returnUrl: z
    .string()
    .max(2048, 'must be at most 2048 characters')
    .optional()
    .describe("Where the outcome page links back to: one of the tenant's `allowedReturnUrls` (`PATCH /v1/tenant`), else 422"),
  allowedOrigin: z
    .string()
    .max(2048, 'must be at most 2048 characters')
    .optional()
    .describe(
      'The origin of the window that opened the page: the outcome page posts `{type: "zendesk-integration", status, integrationId}` to `window.opener` for this origin only. One of the tenant\'s `allowedOrigins`, else 422',
    ),
});

export const ConnectSession = z.object({
  token: z.string().describe('The session token: a bearer secret, shown once and stored hashed. It is part of `url`'),
  url: z.string().describe("The Connect page to open in the admin's browser (a new window or a redirect)"),
  expiresAt: z.iso.datetime().describe('When the link stops working (30 minutes). It also stops once it has connected a workspace'),
});
