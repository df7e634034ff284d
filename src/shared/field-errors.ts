// One wording for a schema failure wherever untrusted input is parsed (HTTP routes, ConsoleApi requests, Redis
// events): every failing field named, joined into one message.
import type { z } from 'zod';

export interface FieldError {
  field: string;
  message: string;
}

/** Names the failing field(s) of a zod error in one message: "expiry.1: expected YYYY-MM-DD". */
export function describeZodError(error: z.ZodError, prefix = ''): { message: string; errors: FieldError[] } {
  const errors = error.issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || prefix || '(body)',
    message: issue.message,
  }));
  return { message: errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors };
}
