// Shared by the metrics tests: a state store in a real SQLite file under a temp directory, a metrics service on a
// manual clock, and a push recorder.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PushTopic } from '../../../shared/api';
import { ManualClock } from '../../../testing/clock';
import type { DataSignals } from '../../market/data-signals';
import { StateStore } from '../../state/store';
import { MetricsService } from '../service';

/** 2025-11-04 09:30:00 IST, a Tuesday session, on a minute boundary. */
export const T0 = Date.UTC(2025, 10, 4, 4, 0, 0);

export interface Pushed {
  topic: PushTopic;
  key?: string;
  message?: string;
}

export function stateFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'sd-metrics-')), 'state.db');
}

export function openStore(path: string): StateStore {
  const store = new StateStore(path);
  store.migrate();
  return store;
}

export function metricsOn(store: StateStore, clock: ManualClock, extra: { signals?: DataSignals } = {}): { metrics: MetricsService; pushed: Pushed[] } {
  const pushed: Pushed[] = [];
  const metrics = new MetricsService({
    db: store.db,
    clock,
    push: { publish: (topic, key, message) => pushed.push({ topic, key, message }) },
    signals: extra.signals,
    defaultMetrics: false,
  });
  return { metrics, pushed };
}

/** The value of one Prometheus sample: family name, label subset, and the sample name for histograms (_count...). */
export async function promValue(metrics: MetricsService, family: string, labels: Record<string, string> = {}, sample = family): Promise<number | undefined> {
  const metric = metrics.prom.registry.getSingleMetric(family);
  if (!metric) return undefined;
  const data = await metric.get();
  const found = data.values.find((v) => {
    const name = (v as { metricName?: string }).metricName ?? family;
    const l = v.labels as Record<string, string | number>;
    return name === sample && Object.entries(labels).every(([k, want]) => String(l[k]) === want);
  });
  return found?.value;
}
