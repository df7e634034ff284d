// How the renderer reaches main: the Electron preload's window.strikedesk when present, else the headless console's
// HTTP adapter (POST /api/<channel>, pushed invalidations over SSE). Both answer Results; nothing else crosses.
import { CHANNELS, type Channel, type ConsoleBridge, type PushEvent, type RequestOf, type ResultOf } from '../../shared/api';
import type { ApiError, ErrorCode, Result } from '../../shared/result';

declare global {
  interface Window {
    strikedesk?: ConsoleBridge;
  }
}

/**
 * connecting: first contact; open: pushes flowing; lost: the push stream dropped but the console still answers
 * (reconnecting); unauthorized: the console refuses this tab's token (401); unreachable: nothing answers (the console
 * stopped or the network is gone). Each gets its own words on screen.
 */
export type ConnectionState = 'connecting' | 'open' | 'lost' | 'unauthorized' | 'unreachable';

/** Marks a call that failed because the console itself did not answer (not a service inside it). */
export const UNREACHABLE_PREFIX = 'The Strikedesk console is not reachable';

export interface Transport {
  readonly kind: 'ipc' | 'http';
  /** Why no call can succeed (no API token in the headless console), or null. */
  readonly problem: string | null;
  call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<Result<ResultOf<C>>>;
  onPush(listener: (event: PushEvent) => void): () => void;
  /** Push stream health; 'open' after 'lost' means events may have been missed (the caller refetches everything). */
  onConnection(listener: (state: ConnectionState) => void): () => void;
}

const TOKEN_KEY = 'strikedesk.apiToken';

/**
 * Reads the API token once from `?token=` (the URL the headless console prints), keeps it for this tab only and
 * removes it from the address bar so it does not end up in history, bookmarks or screenshots.
 */
export function takeApiToken(loc: Location = window.location, storage: Storage = window.sessionStorage): string | null {
  const url = new URL(loc.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    storage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
    return fromUrl;
  }
  return storage.getItem(TOKEN_KEY);
}

const HTTP_CODES: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'UNAUTHORIZED',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
};

/** A body is a Result only if it says so; anything else (`{detail}` on 401, an HTML error page) becomes an error. */
export function toResult(status: number, body: unknown): Result<unknown> {
  if (body && typeof body === 'object' && 'ok' in body) {
    const candidate = body as { ok: unknown; value?: unknown; error?: Partial<ApiError> };
    if (candidate.ok === true) return { ok: true, value: candidate.value };
    if (candidate.ok === false && candidate.error && typeof candidate.error === 'object') {
      const code = (candidate.error.code ?? HTTP_CODES[status] ?? 'INTERNAL') as ErrorCode;
      return { ok: false, error: { ...candidate.error, code, message: candidate.error.message ?? `HTTP ${status}` } };
    }
  }
  const detail = body && typeof body === 'object' && 'detail' in body ? (body as { detail: unknown }).detail : null;
  const message = typeof detail === 'string' ? detail : detail != null ? JSON.stringify(detail) : `unexpected answer (HTTP ${status})`;
  return { ok: false, error: { code: HTTP_CODES[status] ?? 'INTERNAL', message } };
}

/**
 * How long a call may take before the screen says so (with a retry) instead of spinning. The chain may wait for
 * first data up to the smart_subscription_wait_timeout flag (at most 120 s).
 */
export const CALL_TIMEOUT_MS: Partial<Record<Channel, number>> & { default: number } = {
  default: 30_000,
  'chain:distribution': 130_000,
  'backfill:plan': 60_000,
  'backfill:start': 60_000,
};

const NO_TOKEN = 'No API token: open the console with the URL Strikedesk printed when it started (…/?token=…).';

const parseJson = (text: string): unknown => {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
};

export function httpTransport(token: string | null, base = ''): Transport {
  const pushListeners = new Set<(event: PushEvent) => void>();
  const connectionListeners = new Set<(state: ConnectionState) => void>();
  let source: EventSource | null = null;
  let state: ConnectionState = 'connecting';

  const setState = (next: ConnectionState) => {
    if (next === state) return;
    state = next;
    for (const listener of connectionListeners) listener(next);
  };

  // Why the stream dropped decides the words: a 401 needs a new URL, a console that is gone needs restarting, and
  // a console that still answers will be back by itself. One cheap authenticated call tells them apart.
  let probing = false;
  const probe = async () => {
    if (probing || !token) return;
    probing = true;
    try {
      const response = await fetch(`${base}/api/health:get`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: '{}',
        signal: AbortSignal.timeout(4000),
      });
      if (state === 'open') return;
      setState(response.status === 401 || response.status === 403 ? 'unauthorized' : 'lost');
    } catch {
      if (state !== 'open') setState('unreachable');
    } finally {
      probing = false;
    }
  };

  // One EventSource for the page, opened with the first listener; EventSource reconnects by itself (retry: 2000).
  const ensureSource = () => {
    if (source || !token) return;
    source = new EventSource(`${base}/api/events?token=${encodeURIComponent(token)}`);
    source.onopen = () => setState('open');
    source.onerror = () => {
      if (state === 'open' || state === 'connecting') setState('lost');
      void probe();
      // EventSource retries network errors itself but gives up on an HTTP error (a restarted console answering
      // 401 or 503 for a moment): open a new one a little later.
      if (source?.readyState === EventSource.CLOSED) {
        source = null;
        window.setTimeout(ensureSource, 5000);
      }
    };
    source.onmessage = (message) => {
      let event: PushEvent;
      try {
        event = JSON.parse(message.data as string) as PushEvent;
      } catch {
        return;
      }
      if (!event || typeof event.topic !== 'string') return;
      for (const listener of pushListeners) listener(event);
    };
  };

  return {
    kind: 'http',
    problem: token ? null : NO_TOKEN,
    async call(channel, request) {
      if (!token) {
        return { ok: false, error: { code: 'UNAUTHORIZED', message: NO_TOKEN } };
      }
      let response: Response;
      try {
        response = await fetch(`${base}/api/${channel}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
          body: JSON.stringify(request ?? {}),
          signal: AbortSignal.timeout(CALL_TIMEOUT_MS[channel] ?? CALL_TIMEOUT_MS.default),
        });
      } catch (err) {
        if ((err as Error).name === 'TimeoutError') {
          const seconds = Math.round((CALL_TIMEOUT_MS[channel] ?? CALL_TIMEOUT_MS.default) / 1000);
          return { ok: false, error: { code: 'INTERNAL', message: `${channel} did not answer within ${seconds} s` } };
        }
        if (state !== 'open') setState('unreachable');
        return { ok: false, error: { code: 'UNAVAILABLE', message: `${UNREACHABLE_PREFIX}: ${(err as Error).message}` } };
      }
      if (response.status === 401) setState('unauthorized');
      return toResult(response.status, parseJson(await response.text())) as Result<ResultOf<typeof channel>>;
    },
    onPush(listener) {
      pushListeners.add(listener);
      ensureSource();
      return () => pushListeners.delete(listener);
    },
    onConnection(listener) {
      connectionListeners.add(listener);
      listener(state);
      return () => connectionListeners.delete(listener);
    },
  };
}

/** The preload bridge: IPC has no connection to lose. */
export function ipcTransport(bridge: ConsoleBridge): Transport {
  return {
    kind: 'ipc',
    problem: null,
    call: (channel, request) => {
      const fn = bridge[channel] as ((req: unknown) => Promise<Result<unknown>>) | undefined;
      if (typeof fn !== 'function') {
        return Promise.resolve({ ok: false, error: { code: 'NOT_FOUND', message: `channel ${channel} is not exposed by the preload` } });
      }
      return fn(request ?? {}).catch((err: unknown) => ({
        ok: false as const,
        error: { code: 'INTERNAL' as const, message: err instanceof Error ? err.message : String(err) },
      })) as Promise<Result<ResultOf<typeof channel>>>;
    },
    onPush: (listener) => bridge.onPush(listener),
    onConnection: (listener) => {
      listener('open');
      return () => undefined;
    },
  };
}

export function defaultTransport(): Transport {
  if (window.strikedesk && CHANNELS.every((c) => typeof window.strikedesk?.[c] === 'function')) return ipcTransport(window.strikedesk);
  return httpTransport(takeApiToken());
}
