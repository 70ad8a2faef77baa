import { z } from 'zod';

/** Shapes of `POST /v1/integrations/{id}/view-sessions` (links to the embeddable utilization view). */

export const CreateViewSessionBody = z.strictObject({
  allowedOrigin: z
    .string()
    .max(2048, 'must be at most 2048 characters')
    .optional()
    .describe(
      "The origin of the page that frames the view: the view's `frame-ancestors` is this origin only. One of the tenant's `allowedOrigins` (`PATCH /v1/tenant`), else 422; without it, any of them may frame the view",
    ),
});

export const ViewSession = z.object({
  token: z.string().describe('The session token: a bearer secret, shown once and stored hashed. It is part of `url`'),
  url: z.string().describe('The utilization view: open it in a browser, or embed it in an `<iframe>` of an allowed origin'),
  expiresAt: z.iso.datetime().describe('When the link stops working (60 minutes): create a new one each time the view is shown'),
});
