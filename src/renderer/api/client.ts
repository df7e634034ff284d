// Turns a Result back into a value or a ConsoleError, so react-query shows the service's own message.
import type { Channel, RequestOf, ResultOf } from '../../shared/api';
import { ConsoleError } from '../../shared/result';
import type { Transport } from './transport';

export async function callChannel<C extends Channel>(transport: Transport, channel: C, request: RequestOf<C>): Promise<ResultOf<C>> {
  const result = await transport.call(channel, request);
  if (result.ok) return result.value;
  throw new ConsoleError(result.error.code, result.error.message || `${channel} failed (${result.error.code})`, result.error.field);
}

export const isUnavailable = (error: unknown): boolean => error instanceof ConsoleError && error.code === 'UNAVAILABLE';

/** Errors that another immediate attempt will not fix (a timed-out call is shown at once, with its retry button). */
export const isFinal = (error: unknown): boolean =>
  error instanceof ConsoleError &&
  (['UNAVAILABLE', 'BAD_REQUEST', 'UNAUTHORIZED', 'NOT_FOUND', 'PINNED', 'CONFLICT', 'CAPACITY'].includes(error.code) ||
    / did not answer within /.test(error.message));
