// Who may talk to the console's HTTP server at all. Two checks run before any route:
//  - Host allow-list: a page on evil.example whose DNS later points at 127.0.0.1 (DNS rebinding) sends
//    `Host: evil.example`; only the bound address, localhost, 127.0.0.1 and [::1] on the bound port are answered
//    (others 421 Misdirected Request).
//  - Cross-site browsers: a page on another site can make the browser send requests here (forms, fetch without
//    CORS, img tags). Browsers mark those with `Origin` and `Sec-Fetch-Site`; a foreign Origin or Sec-Fetch-Site
//    cross-site/same-site is refused (403) on every route with an effect. Plain HTTP clients (curl, the ticker
//    service's webhook) send neither header and keep working.
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** `[::1]` and `::1` are one address; names compare case-insensitively. */
function normalizeHostName(name: string): string {
  const lower = name.trim().toLowerCase();
  if (lower.startsWith('[') && lower.endsWith(']')) return lower;
  return isIP(lower) === 6 ? `[${lower}]` : lower;
}

/** Splits a Host header into name and port ("[::1]:8081" -> ["[::1]", 8081]); null when it is not a host. */
export function parseHostHeader(value: string): { name: string; port: number | null } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (!m) return null;
  return { name: normalizeHostName(m[1]), port: m[2] === undefined ? null : Number(m[2]) };
}

/** The host names a request may carry for a server bound to `bindHost`. */
export function allowedHostNames(bindHost: string): Set<string> {
  const names = new Set(['localhost', '127.0.0.1', '[::1]', normalizeHostName(bindHost)]);
  if (WILDCARDS.has(bindHost.trim())) {
    // Bound to every interface (token required by configuration): the machine's own names and addresses.
    names.add(hostname().toLowerCase());
    for (const list of Object.values(networkInterfaces())) {
      for (const nic of list ?? []) names.add(normalizeHostName(nic.address.split('%')[0]));
    }
  }
  return names;
}

export class RequestGuard {
  private readonly names: Set<string>;
  private readonly origins = new Set<string>();

  constructor(
    bindHost: string,
    private readonly port: number,
  ) {
    this.names = allowedHostNames(bindHost);
    for (const name of this.names) this.origins.add(`http://${name}:${port}`);
  }

  /** Null when the Host header names this server; otherwise why not. */
  checkHost(req: IncomingMessage): string | null {
    const raw = req.headers.host;
    if (!raw) return 'missing Host header';
    const host = parseHostHeader(raw);
    if (!host || !this.names.has(host.name) || (host.port ?? 80) !== this.port) {
      return `Host ${JSON.stringify(raw.slice(0, 100))} is not this console (use 127.0.0.1:${this.port} or localhost:${this.port})`;
    }
    return null;
  }

  /** True when a browser sent the request on behalf of a page of another origin. */
  isCrossSite(req: IncomingMessage): boolean {
    const site = String(req.headers['sec-fetch-site'] ?? '').toLowerCase();
    if (site === 'cross-site' || site === 'same-site') return true;
    const origin = req.headers.origin;
    if (origin === undefined) return false;
    return !this.origins.has(String(origin).toLowerCase().replace(/\/$/, ''));
  }
}
