// Main's one implementation of the ConsoleApi. Requests are parsed here with the contract's zod schemas; domain
// errors become values ({ok:false, error}) so IPC and HTTP carry them the same way.
import { CONTRACT, type Channel, type ParsedRequestOf, type ResultOf } from '../../shared/api';
import { DomainError, fail, ok, type ErrorCode, type Result } from '../../shared/result';
import { describeZodError } from '../../shared/field-errors';
import { redactUrlsIn, type Logger } from '../log';

export interface CallContext {
  /** Who is calling, for audit: the OS user in Electron, 'api-token' over HTTP. */
  actor: string;
}

export type Handlers = {
  [C in Channel]: (request: ParsedRequestOf<C>, ctx: CallContext) => Promise<ResultOf<C>> | ResultOf<C>;
};

export const isChannel = (name: string): name is Channel => Object.prototype.hasOwnProperty.call(CONTRACT, name);

/**
 * The path of the first string holding a NUL character, or null. PostgreSQL text cannot hold NUL: such a value would
 * fail deep in a query (a 500) instead of being refused at the edge. Iterative: a request cannot overflow the stack.
 */
export function nulCharacterPath(value: unknown): string | null {
  const stack: [unknown, string][] = [[value, '']];
  let visited = 0;
  while (stack.length && visited++ < 100_000) {
    const [v, path] = stack.pop() as [unknown, string];
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return path || '(body)';
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) stack.push([child, path ? `${path}.${k}` : k]);
    }
  }
  return null;
}

export const STATUS_OF: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PINNED: 409,
  CAPACITY: 409,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

export class ConsoleApi {
  private readonly handlers: Partial<Handlers> = {};

  constructor(private readonly logger: Logger) {}

  /** Each domain registers its channels once; registering one twice is a wiring bug. */
  register(handlers: Partial<Handlers>): void {
    for (const key of Object.keys(handlers) as Channel[]) {
      if (this.handlers[key]) throw new Error(`channel ${key} registered twice`);
      (this.handlers as Record<string, unknown>)[key] = handlers[key];
    }
  }

  implemented(): Channel[] {
    return Object.keys(this.handlers) as Channel[];
  }

  async call(channel: string, rawRequest: unknown, ctx: CallContext): Promise<Result<unknown>> {
    if (!isChannel(channel)) return fail('NOT_FOUND', `unknown channel "${channel}"`);
    const handler = this.handlers[channel] as ((req: unknown, ctx: CallContext) => unknown) | undefined;
    if (!handler) return fail('UNAVAILABLE', `${channel} is not available: its service is not running`);
    const nul = nulCharacterPath(rawRequest);
    if (nul) return fail('BAD_REQUEST', `${nul}: NUL characters are not accepted`, { field: nul });
    const parsed = CONTRACT[channel].request.safeParse(rawRequest ?? {});
    if (!parsed.success) {
      const { message, errors } = describeZodError(parsed.error);
      return fail('BAD_REQUEST', message, { field: errors[0]?.field, details: errors });
    }
    try {
      return ok(await handler(parsed.data, ctx));
    } catch (err) {
      // A domain error may quote a URL it failed on (the ticker's, with credentials): masked before it leaves.
      if (err instanceof DomainError) return fail(err.code, redactUrlsIn(err.message), { field: err.field, details: err.details });
      // The cause (a database's words, a stack) goes to the log only: clients get generic text.
      this.logger.error({ err, channel }, 'console api call failed');
      return fail('INTERNAL', `${channel} failed: internal error (see the console log)`);
    }
  }
}
