// What the Electron shell allows, as plain functions (tested without Electron):
//  - the renderer comes from app://renderer/<file>, a custom protocol over the renderer build only. Under file:// the
//    CSP's 'self' would cover every local file; under app:// it covers the build and nothing else.
//  - external links open in the OS browser only for an allow-list of https hosts (Kite's and NSE's documentation).
//  - every permission (camera, geolocation, notifications from the page, ...) is denied: the renderer needs none;
//    alerts are shown as notifications by main.
import { isAbsolute, normalize, relative, resolve } from 'node:path';

export const APP_SCHEME = 'app';
export const APP_HOST = 'renderer';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const RENDERER_ENTRY = `${APP_ORIGIN}/index.html`;

/** Hosts an external link may open in the OS browser (https only, exact host or a subdomain of these). */
export const EXTERNAL_HOSTS: readonly string[] = ['kite.trade', 'zerodha.com', 'nseindia.com', 'github.com'];

export function isAllowedExternal(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'https:' || parsed.username || parsed.password || parsed.port) return false;
  const host = parsed.hostname.toLowerCase();
  return EXTERNAL_HOSTS.some((allowed) => host === allowed || host.endsWith(`.${allowed}`));
}

/** True for a page of our renderer (app://renderer/...), whatever its path, query or hash. */
export function isTrustedRendererUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST;
  } catch {
    return false;
  }
}

/**
 * The file an app:// request maps to inside the renderer build, or null (another host, a path outside the build).
 * Paths without an extension are the single-page app's routes: index.html.
 */
export function rendererFileFor(url: string, rendererDir: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return null;
  let path: string;
  try {
    path = decodeURIComponent(parsed.pathname);
  } catch {
    return null;
  }
  if (path.includes('\0')) return null;
  const base = resolve(rendererDir);
  const file = normalize(resolve(base, `.${path.startsWith('/') ? path : `/${path}`}`));
  const rel = relative(base, file);
  if (rel.startsWith('..') || isAbsolute(rel)) return null;
  if (rel === '' || !/\.[A-Za-z0-9]+$/.test(rel)) return resolve(base, 'index.html');
  return file;
}

/** Every permission request and check is refused. */
export const denyAllPermissions = (): false => false;
