// The Electron shell's policy (issue 14), tested without Electron: app:// serves the renderer build only, external
// links only to the allow-list, every permission denied; the packaging config sets the fuses; Electron is 45.x.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { denyAllPermissions, isAllowedExternal, isTrustedRendererUrl, RENDERER_ENTRY, rendererFileFor } from './electron-policy';

const root = resolve(__dirname, '../..');
const dir = '/opt/strikedesk/out/renderer';

describe('app:// renderer protocol', () => {
  it('maps files of the build and SPA routes to index.html', () => {
    expect(RENDERER_ENTRY).toBe('app://renderer/index.html');
    expect(rendererFileFor('app://renderer/index.html', dir)).toBe(join(dir, 'index.html'));
    expect(rendererFileFor('app://renderer/assets/index-abc.js', dir)).toBe(join(dir, 'assets/index-abc.js'));
    expect(rendererFileFor('app://renderer/', dir)).toBe(join(dir, 'index.html'));
    expect(rendererFileFor('app://renderer/chain/NIFTY', dir)).toBe(join(dir, 'index.html'));
  });

  it('never leaves the build: traversal, encoded traversal, other hosts, other schemes', () => {
    for (const url of [
      'app://renderer/../../../etc/passwd',
      'app://renderer/%2e%2e/%2e%2e/etc/passwd',
      'app://renderer/..%2f..%2fetc%2fpasswd',
      'app://renderer/assets/%E0%A4%A',
      'app://other/index.html',
      'file:///etc/passwd',
      'app://renderer/a%00.js',
    ]) {
      const file = rendererFileFor(url, dir);
      expect(file === null || file.startsWith(`${dir}/`), url).toBe(true);
      expect(file ?? '', url).not.toMatch(/passwd/);
    }
    expect(rendererFileFor('app://other/index.html', dir)).toBeNull();
  });

  it('trusts only app://renderer pages (IPC, navigation)', () => {
    expect(isTrustedRendererUrl('app://renderer/index.html#/chain')).toBe(true);
    for (const url of ['file:///opt/strikedesk/out/renderer/index.html', 'app://evil/index.html', 'https://renderer/index.html', 'not a url']) {
      expect(isTrustedRendererUrl(url), url).toBe(false);
    }
  });
});

describe('external links and permissions', () => {
  it('opens only https links to the allow-listed hosts', () => {
    expect(isAllowedExternal('https://kite.trade/docs/connect/v3/')).toBe(true);
    expect(isAllowedExternal('https://www.nseindia.com/')).toBe(true);
    for (const url of [
      'https://evil.example/',
      'http://kite.trade/',
      'https://kite.trade.evil.example/',
      'https://evilkite.trade/',
      'https://user:pw@kite.trade/',
      'https://kite.trade:8443/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'smb://host/share',
    ]) {
      expect(isAllowedExternal(url), url).toBe(false);
    }
  });

  it('denies every permission', () => {
    expect(denyAllPermissions()).toBe(false);
  });
});

describe('packaging and version', () => {
  it('electron-builder.yml flips the hardening fuses', () => {
    const yml = readFileSync(join(root, 'electron-builder.yml'), 'utf8');
    for (const line of [
      'runAsNode: false',
      'enableNodeOptionsEnvironmentVariable: false',
      'enableNodeCliInspectArguments: false',
      'enableEmbeddedAsarIntegrityValidation: true',
      'onlyLoadAppFromAsar: true',
      'grantFileProtocolExtraPrivileges: false',
      'enableCookieEncryption: true',
    ]) {
      expect(yml).toContain(`  ${line}`);
    }
  });

  it('pins a supported Electron major (45) whose binary is not fetched at npm ci', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
      allowScripts: Record<string, boolean>;
    };
    expect(pkg.devDependencies.electron).toMatch(/^45\./);
    expect(pkg.allowScripts.electron).toBe(false);
    const electronPkg = JSON.parse(readFileSync(join(root, 'node_modules/electron/package.json'), 'utf8')) as {
      version: string;
      scripts?: Record<string, string>;
    };
    expect(electronPkg.version).toMatch(/^45\./);
    expect(electronPkg.scripts?.postinstall).toBeUndefined();
  });

  it('the shell uses the policy: single instance, permission handlers, app:// entry, allow-listed openExternal', () => {
    const shell = readFileSync(join(root, 'src/main/index.ts'), 'utf8');
    expect(shell).toMatch(/app\.requestSingleInstanceLock\(\)/);
    expect(shell).toMatch(/setPermissionRequestHandler\(.*callback\(denyAllPermissions\(\)\)\)/);
    expect(shell).toMatch(/setPermissionCheckHandler\(denyAllPermissions\)/);
    expect(shell).toMatch(/loadURL\(RENDERER_ENTRY\)/);
    expect(shell).not.toMatch(/loadFile\(/);
    for (const m of shell.matchAll(/(.*)shell\.openExternal/g)) expect(m[1]).toMatch(/isAllowedExternal\(url\)/);
  });
});
