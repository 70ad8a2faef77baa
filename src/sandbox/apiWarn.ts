// Zendesk ignores query parameters an action does not know and says so in a header, recorded on
// GET /api/v2/users for a misspelt `roles` (NangoHQ/integration-templates, 2025-06):
//   x-zendesk-api-warn: {allowed_parameters: {controller: "users", action: "index", unpermitted_keys: ["roles"], invalid_values: []}}
// The request still succeeds, so a typo silently drops a filter. The other actions' names (`show_many`,
// `count`) follow Rails' convention; only `index` is recorded.

export function apiWarning(q: URLSearchParams, action: string, known: ReadonlySet<string>): Record<string, string> {
  const unknown = [...new Set([...q.keys()].filter((k) => !known.has(k)))];
  if (unknown.length === 0) return {};
  const keys = unknown.map((k) => JSON.stringify(k)).join(', ');
  return { 'X-Zendesk-API-Warn': `{allowed_parameters: {controller: "users", action: "${action}", unpermitted_keys: [${keys}], invalid_values: []}}` };
}
