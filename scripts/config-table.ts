// Prints the README's configuration table from the settings table, so the two cannot drift.
// Usage: npx tsx scripts/config-table.ts
import { SETTINGS, type SettingSpec } from '../src/main/config/settings';
import { FLAG_DEFINITIONS } from '../src/shared/flags';

const rows = (SETTINGS as readonly SettingSpec[]).map((s) => {
  const def = s.default === undefined ? '' : Array.isArray(s.default) ? s.default.join(',') : String(s.default);
  return `| \`${s.env}\` | ${s.cli ? `\`${s.cli}\`` : ''} | \`${s.key}\` | ${def ? `\`${def}\`` : '(see description)'} | ${s.description} |`;
});
process.stdout.write(['| environment | CLI | config file key | default | meaning |', '|---|---|---|---|---|', ...rows].join('\n') + '\n\n');
const flags = FLAG_DEFINITIONS.map(
  (f) => `| \`${f.key}\` | \`${f.env}\` | ${f.type} | \`${String(f.default)}\`${f.unit ? ` ${f.unit}` : ''} | ${f.description} |`,
);
process.stdout.write(['| flag | pinned by | type | default | meaning |', '|---|---|---|---|---|', ...flags].join('\n') + '\n');
