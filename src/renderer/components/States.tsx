// Loading, error and "service not running" states, shared by every screen. Every error can be retried.
import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { ConsoleError } from '../../shared/result';
import { UNREACHABLE_PREFIX } from '../api/transport';

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
  // The console itself gone is not "a service has not started": say which one it is.
  const unreachable = code === 'UNAVAILABLE' && message.startsWith(UNREACHABLE_PREFIX);
  const unavailable = code === 'UNAVAILABLE' && !unreachable;
  const title = unreachable
    ? `Console not reachable: ${what}`
    : code === 'UNAUTHORIZED'
      ? `Not signed in: ${what}`
      : unavailable
        ? `Service not running: ${what}`
        : `Could not load ${what}`;
  return (
    <div className={`state ${unavailable ? 'state-unavailable' : 'state-error'}`} role="alert" data-code={code} data-unreachable={unreachable || undefined}>
      <div className="state-title">{title}</div>
      <div className="state-message">
        {unreachable ? (
          <>The Strikedesk console did not answer: it has stopped or the network is down. Start it again; this page reconnects by itself.</>
        ) : code === 'UNAUTHORIZED' ? (
          <>
            The console refused this page's API token (401). Open the URL it printed at start-up (…/?token=…).{' '}
            {message && <span className="muted">({message})</span>}
          </>
        ) : unavailable ? (
          <>The service behind this screen has not started in this console. {message && <span className="muted">({message})</span>}</>
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
      {query.isError && (
        <ErrorPanel error={query.error} what={`${what} (showing the last answer)`} onRetry={() => void query.refetch()} retrying={query.isFetching} />
      )}
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
