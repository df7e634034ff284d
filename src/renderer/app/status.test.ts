import { describe, expect, it } from 'vitest';
import type { HealthReport } from '../../shared/api';
import { overallStatus } from './status';

const report = (components: HealthReport['components'], status: HealthReport['status'] = 'ok'): HealthReport => ({
  status,
  timestamp: '2026-01-01T00:00:00Z',
  version: '1',
  components,
});

describe('overall status in the top bar', () => {
  it('is green only when the stream is open and every component is ok', () => {
    expect(overallStatus('open', report({ feed: { status: 'ok' }, db: { status: 'disabled' } })).tone).toBe('ok');
  });
  it('names the degraded component instead of a green live', () => {
    const s = overallStatus('open', report({ feed: { status: 'degraded', detail: 'no ticks for 40 s' }, db: { status: 'ok' } }, 'degraded'));
    expect(s.tone).toBe('warn');
    expect(s.label).toBe('live · degraded: feed');
    expect(s.detail).toContain('no ticks for 40 s');
    expect(overallStatus('open', report({ ticker: { status: 'down' } }, 'degraded')).tone).toBe('bad');
  });
  it('uses different words for a 401, a console gone and a dropped stream', () => {
    expect(overallStatus('unauthorized', undefined).label).toMatch(/401/);
    expect(overallStatus('unreachable', undefined).label).toBe('console unreachable');
    expect(overallStatus('lost', report({})).label).toBe('reconnecting');
  });
});
