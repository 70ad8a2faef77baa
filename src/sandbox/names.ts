// Name material for generated users. Deliberately includes apostrophes, quotes, commas,
// diacritics and non-Latin scripts, because the product must round-trip them into CSV and JSON.

export const FIRST_NAMES = [
  'Ada',
  'Ben',
  'Chloé',
  'Dmitri',
  'Eve',
  'Fatima',
  'Grace',
  'Hiro',
  'Ingrid',
  'José',
  'Kwame',
  'Léa',
  'Mia',
  'Noah',
  'Olivia',
  'Priya',
  'Quinn',
  'Rafael',
  'Sofia',
  'Tomás',
  'Uma',
  'Václav',
  'Wei',
  'Xavier',
  'Yara',
  'Zoë',
  'Łukasz',
  'Ólafur',
  'Søren',
  'Anaïs',
  'Björn',
  'Çağla',
  'Đorđe',
  'Émile',
  'Ngozi',
  'Aarav',
  'Mateo',
  'Amelia',
  'Liam',
  'Emma',
  '太郎',
  '美咲',
  'Анна',
  'Иван',
  'Σοφία',
  'محمد',
  'יעל',
  'Minh',
  'Seo-yeon',
  'Oluwaseun',
];

export const LAST_NAMES = [
  'Smith',
  'Johnson',
  'García',
  'Müller',
  'Nguyễn',
  "O'Brien",
  "D'Angelo",
  'van der Berg',
  'Kowalski',
  'Rossi',
  'Dubois',
  'Silva',
  'Kim',
  'Patel',
  'Okafor',
  'Ødegaard',
  'Hernández',
  'Jäger',
  'Zhang',
  'Lopez-Ortiz',
  'Schmidt',
  'Novák',
  'Yılmaz',
  'Andersson',
  'Haddad',
  'Cohen',
  'Kuznetsov',
  'Papadopoulos',
  'Tanaka',
  'Brown',
  '山田',
  '佐藤',
  'Иванова',
  'Παπαδάκης',
  'الحسن',
  'לוי',
  'Mac Giolla Phádraig',
  'St. John',
  'Wright',
  'Taylor',
];

/** Names a generator sprinkles in verbatim: the shapes that break naive CSV, SQL and HTML code. */
export const TRICKY_NAMES = [
  `O'Brien, "Jr"`,
  `Renée "Ren" D'Souza`,
  'Zoë Ωmega-Łopez',
  '  Padded   Spaces  ',
  'Comma, Only',
  'Line\nBreak',
  '<script>alert(1)</script>',
  'Robert"); DROP TABLE users;--',
  '😀 Emoji Person',
  'A',
  'Semi;colon',
  '=HYPERLINK("http://example.com")',
];

export const EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example.com', 'ünïcode.example'];

export const TIME_ZONES: ReadonlyArray<readonly [string, string]> = [
  ['Eastern Time (US & Canada)', 'America/New_York'],
  ['Pacific Time (US & Canada)', 'America/Los_Angeles'],
  ['London', 'Europe/London'],
  ['Berlin', 'Europe/Berlin'],
  ['Tokyo', 'Asia/Tokyo'],
  ['Sydney', 'Australia/Sydney'],
  ['UTC', 'Etc/UTC'],
  ['Kolkata', 'Asia/Kolkata'],
];

export const LOCALES: ReadonlyArray<readonly [string, number]> = [
  ['en-US', 1],
  ['en-gb', 5],
  ['de', 8],
  ['fr', 16],
  ['es', 2],
  ['ja', 67],
  ['pt-br', 19],
];

/** ASCII slug for the local part of an email address (unique-ified by the caller). */
export function emailSlug(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '.')
    .replace(/^\.+|\.+$/g, '');
  return slug.length > 0 ? slug.slice(0, 30) : 'user';
}
