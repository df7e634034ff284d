// Who a presented API token belongs to: the console's own token (its OS user) or a named operator token
// (STRIKEDESK_API_TOKENS, parsed in config/operators.ts). The actor recorded in audit rows is that name.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NamedToken } from '../config/operators';

export type { NamedToken };

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Constant time whatever the lengths: both sides are hashed first, so neither an early return on a length mismatch
 * nor timingSafeEqual's own length check tells a caller how long a token is.
 */
const same = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b)) && a === b;

/** Who a presented token belongs to. Every token is compared (constant time each), whichever matches. */
export class OperatorTokens {
  private readonly tokens: readonly NamedToken[];

  constructor(primary: NamedToken, named: readonly NamedToken[] = []) {
    // The console's own token first; a named token equal to it would make "who" ambiguous: the name wins.
    this.tokens = [...named, primary];
  }

  /** The operator's name, or null when the token is unknown. */
  actorFor(presented: string | null | undefined): string | null {
    if (!presented) return null;
    let found: string | null = null;
    for (const t of this.tokens) if (same(presented, t.token) && found === null) found = t.name;
    return found;
  }

  get names(): string[] {
    return this.tokens.map((t) => t.name);
  }
}
