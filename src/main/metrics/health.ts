// The console's health report: each service contributes a probe; GET /internal/health and health:get read them all.
// It sits with the metrics (what the console observes of itself) so every service can register without importing app/.
import type { ComponentHealth, HealthReport } from '../../shared/api';
import { redactUrlsIn } from '../log';

export type HealthProbe = () => ComponentHealth;

export class HealthRegistry {
  private readonly probes = new Map<string, HealthProbe>();

  constructor(private readonly version: string) {}

  register(name: string, probe: HealthProbe): void {
    this.probes.set(name, probe);
  }

  report(): HealthReport {
    const components: Record<string, ComponentHealth> = {};
    for (const [name, probe] of this.probes) {
      try {
        components[name] = probe();
      } catch (err) {
        components[name] = { status: 'down', detail: (err as Error).message };
      }
      // Health is served without a token: no URL in it may carry credentials (TICKER_URL with user:password).
      const detail = components[name].detail;
      if (typeof detail === 'string') components[name] = { ...components[name], detail: redactUrlsIn(detail) };
    }
    const degraded = Object.values(components).some((c) => c.status === 'down' || c.status === 'degraded');
    return { status: degraded ? 'degraded' : 'ok', timestamp: new Date().toISOString(), version: this.version, components };
  }
}
