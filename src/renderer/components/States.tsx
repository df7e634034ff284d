// Loading, error and "service not running" states, shared by every screen. Every error can be retried.
import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { ConsoleError } from '../../shared/result';

export function Loading({ what }: { what: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </div>
  );
}

export function ErrorPanel({ error, what, onRetry, retrying }: { error: unknown; what: string; onRetry?: () => void; retrying?: boolean }) {
  const code = error instanceof ConsoleError ? error.code : 'INTERNAL';
  const message = error instanceof Error ? error.message : String(error);
  const unavailable = code === 'UNAVAILABLE';
  return (
    <div className={`state ${unavailable ? 'state-unavailable' : 'state-error'}`} role="alert" data-code={code}>
      <div className="state-title">{unavailable ? `Service not running: ${what}` : `Could not load ${what}`}</div>
      <div className="state-message">
        {unavailable ? (
          <>
            The service behind this screen has not started in this console. {message && <span className="muted">({message})</span>}
          </>
        ) : (
          <>
            <code>{code}</code> {message}
          </>
        )}
      </div>
      {onRetry && (
        <button type="button" onClick={onRetry} disabled={retrying}>
          {retrying ? 'Retrying…' : 'Retry'}
        </button>
      )}
    </div>
  );
}

/** Renders a query's data, or its loading / error state with a retry button. */
export function QueryView<T>({ query, what, children }: { query: UseQueryResult<T, unknown>; what: string; children: (data: T) => ReactNode }) {
  if (query.isPending) {
    if (query.fetchStatus === 'idle') return null;
    return <Loading what={what} />;
  }
  if (query.isError && query.data === undefined) {
    return <ErrorPanel error={query.error} what={what} onRetry={() => void query.refetch()} retrying={query.isFetching} />;
  }
  return (
    <>
      {query.isError && <ErrorPanel error={query.error} what={`${what} (showing the last answer)`} onRetry={() => void query.refetch()} retrying={query.isFetching} />}
      {children(query.data as T)}
    </>
  );
}

/** An inline error under a form or in a dialog (mutations). */
export function InlineError({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ConsoleError ? error.code : null;
  return (
    <div className="inline-error" role="alert">
      {code && <code>{code}</code>} {message}
    </div>
  );
}
