// Errors are values across process boundaries (IPC and the headless HTTP adapter).

export type ErrorCode = 'BAD_REQUEST' | 'NOT_FOUND' | 'CONFLICT' | 'PINNED' | 'CAPACITY' | 'UNAVAILABLE' | 'RATE_LIMITED' | 'UNAUTHORIZED' | 'INTERNAL';

export interface ApiError {
  code: ErrorCode;
  message: string;
  /** Optional field name for validation errors. */
  field?: string;
  details?: unknown;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (code: ErrorCode, message: string, extra?: Partial<ApiError>): Result<never> => ({
  ok: false,
  error: { code, message, ...extra },
});

/** Thrown inside main by domain code; converted to a Result at the boundary. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** The renderer's typed error, rebuilt from an ApiError so react-query shows something meaningful. */
export class ConsoleError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ConsoleError';
  }
}
