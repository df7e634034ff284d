// Named API tokens (the STRIKEDESK_API_TOKENS setting): each headless caller is a person, so audit rows (flag
// changes, alert acknowledgements and silences, backfill jobs) say who acted rather than "api-token".
// STRIKEDESK_API_TOKENS="alice:TOKEN1,bob:TOKEN2" gives each operator a token; the console's own token
// (STRIKEDESK_API_TOKEN, or the one generated per run and printed in the console URL) belongs to whoever started the
// console: the OS user, `os:<user>`. The HTTP layer maps a presented token to its name (http/operators.ts).
import { z } from 'zod';

export interface NamedToken {
  /** The operator's name, recorded as the actor. */
  name: string;
  token: string;
}

/** Shortest accepted named token: 24 characters (about 144 bits in base64url). */
export const MIN_NAMED_TOKEN_LENGTH = 24;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * Parses "name:token,name:token". Messages never echo a token (they name the entry by its position and name); the
 * config loader prefixes them with the setting's name.
 */
export function parseNamedTokens(text: string): { ok: true; tokens: NamedToken[] } | { ok: false; message: string } {
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) return { ok: false, message: 'give at least one name:token entry' };
  const tokens: NamedToken[] = [];
  for (const [i, entry] of entries.entries()) {
    const colon = entry.indexOf(':');
    const where = `entry ${i + 1}`;
    if (colon <= 0) return { ok: false, message: `${where}: expected name:token` };
    const name = entry.slice(0, colon).trim();
    const token = entry.slice(colon + 1).trim();
    if (!NAME.test(name))
      return { ok: false, message: `${where}: the name must be 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit` };
    if (token.length < MIN_NAMED_TOKEN_LENGTH)
      return { ok: false, message: `${where} (${name}): the token must be at least ${MIN_NAMED_TOKEN_LENGTH} characters` };
    if (/\s/.test(token)) return { ok: false, message: `${where} (${name}): the token may not contain spaces` };
    if (tokens.some((t) => t.name === name)) return { ok: false, message: `${where}: the name ${name} is given twice` };
    if (tokens.some((t) => t.token === token)) return { ok: false, message: `${where} (${name}): the same token is given to two names` };
    tokens.push({ name, token });
  }
  return { ok: true, tokens };
}

/** The settings table's schema for STRIKEDESK_API_TOKENS: a string in, the parsed list out. */
export const namedTokensSchema = z.union([z.string(), z.array(z.object({ name: z.string(), token: z.string() }))]).transform((v, ctx) => {
  // A config file may give the list as objects; it is judged exactly as the environment's text.
  const parsed = parseNamedTokens(typeof v === 'string' ? v : v.map((t) => `${t.name}:${t.token}`).join(','));
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: parsed.message });
    return z.NEVER;
  }
  return parsed.tokens;
});
