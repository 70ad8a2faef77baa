import { createHash } from 'node:crypto';
import { Router } from 'express';
import { notFound } from './problems';
import { problem } from './routeResponses';
import { defineRoute, mount } from './routeSpec';
import { z } from 'zod';

/**
 * The pages' one script, served as a file (the pages' Content-Security-Policy allows no inline script): on
 * the outcome page of a consent a Connect session started, it tells the window that opened the Connect page
 * how it went — `postMessage({type: "zendesk-integration", status, integrationId}, allowedOrigin)` — from the
 * page's data- attributes. The origin is one the tenant registered, so the message never reaches a stranger.
 * Its name carries a hash of its bytes, so it can be cached for ever and a change is a new name.
 */
const OPENER_SCRIPT = `'use strict';
(function () {
  var el = document.getElementById('outcome');
  var origin = el && el.getAttribute('data-origin');
  if (!origin || !window.opener) return;
  window.opener.postMessage(
    { type: 'zendesk-integration', status: el.getAttribute('data-status'), integrationId: el.getAttribute('data-integration-id') },
    origin
  );
})();
`;

const OPENER_FILE = `opener.${createHash('sha256').update(OPENER_SCRIPT).digest('hex').slice(0, 16)}.js`;

/** The path pages load the opener script from. */
export const OPENER_SCRIPT_PATH = `/connect/assets/${OPENER_FILE}`;

const connectAsset = defineRoute({
  method: 'get',
  path: '/connect/assets/{file}',
  operationId: 'connectAsset',
  summary: "A script of the Connect pages (browser), named by its content's hash",
  tag: 'integrations',
  security: 'none',
  params: z.object({ file: z.string() }),
  responses: {
    200: {
      description: 'The script; cached for a year (`immutable`): a new version has a new name',
      body: { mediaType: 'text/javascript', description: 'JavaScript' },
    },
    404: problem('No such file'),
  },
});

export const connectAssetRoutes = [connectAsset];

export function connectAssetsRouter(): Router {
  const router = Router();
  mount(router, connectAsset, (req, res) => {
    if (req.params.file !== OPENER_FILE) throw notFound('No such file.');
    res
      .set({ 'Cache-Control': 'public, max-age=31536000, immutable', 'X-Content-Type-Options': 'nosniff', 'Cross-Origin-Resource-Policy': 'same-origin' })
      .type('text/javascript')
      .send(OPENER_SCRIPT);
  });
  return router;
}
