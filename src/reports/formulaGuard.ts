/**
 * Spreadsheet formula injection (CWE-1236). Zendesk end users choose their own names — anyone who emails
 * the support address becomes one — so a name such as `=HYPERLINK("https://evil.example/x","Click")` or
 * `=IMPORTXML(…)` reaches the CSV, and Excel, LibreOffice and Google Sheets evaluate it when an admin opens
 * the export. As OWASP recommends ("CSV Injection"), a text cell that starts with `=`, `+`, `-`, `@`, a tab
 * or a carriage return — or with the full-width forms `＝` `＋` `－` `＠`, which some spreadsheets fold to the
 * ASCII ones — is prefixed with a single quote, which spreadsheets show as text and do not evaluate.
 *
 * Only text is neutralised: numbers the report itself computes (ids, counts, `roleTypeRaw`) are numbers,
 * never formulas, and stay as they are even when negative. A *text* field that happens to read `-5` (a
 * name, an email, Zendesk's raw role) becomes `'-5`: telling a harmless negative number from `-5+cmd|…`
 * is exactly what the guard must not try to do.
 */
const TRIGGERS = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

export function neutralizeFormula(text: string): string {
  return TRIGGERS.test(text) ? `'${text}` : text;
}
