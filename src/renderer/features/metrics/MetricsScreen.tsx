// The plan's four success metrics, each over time with its alert threshold drawn: auto-subscribe success rate,
// time to data (p50/p95 and a histogram), backfill efficiency (instruments and requests per cycle against the
// minimum), subscription API calls per hour. Alerts (firing and history) and their thresholds below.
import { useState } from 'react';
import type { MetricsSummary } from '../../../shared/api';
import { useAlerts, useMetricsSummary } from '../../api/metrics';
import { Section, Stat } from '../../components/Bits';
import { QueryView } from '../../components/States';
import { fmtDuration, fmtInt, fmtPct } from '../../format/numbers';
import { istTime } from '../../format/time';
import { AlertsPanel } from './AlertsPanel';
import { Histogram } from './Histogram';
import { CHART_COLORS, TimeChart } from './TimeChart';

/** Windows in minutes; the buckets follow (15 min: 15 s, 30 min: 30 s, up to 6 h: 1 min, a day: 5 min ...). */
const WINDOWS = [15, 30, 60, 360, 1440, 4320, 10080];
export const windowLabel = (minutes: number): string => (minutes < 60 ? `${minutes} min` : minutes < 1440 ? `${minutes / 60} h` : `${minutes / 1440} d`);
const bucketLabel = (seconds: number): string => (seconds < 60 ? `${seconds} s` : `${seconds / 60} min`);
/** Success rates arrive as ratios (0..1); charts read percent. */
const toPercent = (v: number) => (v <= 1 ? v * 100 : v);
const t0 = (m: MetricsSummary) => m.thresholds.timeToDataSeconds;

export function MetricsScreen() {
  const [minutes, setMinutes] = useState(360);
  const summary = useMetricsSummary(minutes);
  const alerts = useAlerts();
  const slowDataFiring = (alerts.data?.active ?? []).some((a) => a.rule === 'slow_data' && a.state === 'firing');
  return (
    <div className="screen" data-screen="metrics">
      <Section
        title="Success metrics"
        id="metrics-title"
        actions={
          <label className="inline-field">
            <span>Window</span>
            <select value={minutes} onChange={(e) => setMinutes(Number(e.target.value))} aria-label="Metrics window">
              {WINDOWS.map((m) => (
                <option key={m} value={m}>
                  last {windowLabel(m)}
                </option>
              ))}
            </select>
          </label>
        }
      >
        <QueryView query={summary} what="metrics">
          {(m) => <MetricsBody m={m} minutes={minutes} slowDataFiring={slowDataFiring} />}
        </QueryView>
      </Section>
      <AlertsPanel thresholds={summary.data?.thresholds ?? null} />
    </div>
  );
}

function MetricsBody({ m, minutes, slowDataFiring }: { m: MetricsSummary; minutes: number; slowDataFiring: boolean }) {
  const over = m.timeToData.p95 !== null && m.timeToData.p95 > t0(m);
  const span = windowLabel(minutes);
  const bucket = bucketLabel(m.stepSeconds);
  const t = m.thresholds;
  const minSuccess = (1 - t.autoSubscribeFailureRatio) * 100;
  const cycle = m.backfill.lastCycle;
  return (
    <>
      <div className="stats">
        <Stat
          label="Auto-subscribe success"
          value={fmtPct(m.autoSubscribe.successRate)}
          hint={`${fmtInt(m.autoSubscribe.succeeded)} of ${fmtInt(m.autoSubscribe.attempted)} · ${fmtInt(m.autoSubscribe.failed)} failed`}
          tone={m.autoSubscribe.successRate !== null && m.autoSubscribe.successRate * 100 < minSuccess ? 'bad' : 'ok'}
        />
        <Stat
          label={`Time to data p50 / p95 (${span})`}
          value={`${fmtDuration(m.timeToData.p50)} / ${fmtDuration(m.timeToData.p95)}`}
          hint={
            <span data-testid="ttd-explained">
              {fmtInt(m.timeToData.count)} instruments, subscribe to first stored bar, over the whole {span} window. The slow_data alert looks only at the last{' '}
              {t.autoSubscribeWindowMinutes} min and at instruments still waiting (limit {t.timeToDataSeconds} s)
              {over && !slowDataFiring ? ': this window was slow earlier, nothing is slow now' : ''}.
            </span>
          }
          tone={slowDataFiring ? 'bad' : over ? 'warn' : 'ok'}
        />
        <Stat
          label="Last backfill cycle"
          value={cycle ? `${fmtInt(cycle.backfilled)} / ${fmtInt(cycle.considered)}` : '–'}
          hint={cycle ? `${fmtInt(cycle.requests)} requests (minimum ${fmtInt(cycle.minimumRequests)}) · ${fmtInt(cycle.rowsWritten)} rows` : 'no cycle yet'}
          tone={cycle && cycle.requests > cycle.minimumRequests ? 'warn' : undefined}
        />
        <Stat
          label="Subscription API calls"
          value={`${fmtInt(m.subscriptionCalls.lastHour)} / h`}
          hint={`${fmtInt(m.subscriptionCalls.lastDay)} in 24 h · limit ${fmtInt(t.subscriptionCallsPerHour)}/h`}
          tone={m.subscriptionCalls.lastHour > t.subscriptionCallsPerHour ? 'bad' : 'ok'}
        />
        <Stat
          label="Feed"
          value={m.feed.state}
          hint={`last tick ${m.feed.lastTickAt ? istTime(m.feed.lastTickAt) : '–'} · ${fmtInt(m.feed.droppedBars)} dropped bars · ${fmtInt(m.feed.parseErrors)} parse errors`}
          tone={m.feed.state === 'live' ? 'ok' : m.feed.state === 'stale' ? 'bad' : 'muted'}
        />
      </div>
      <p className="small muted" data-testid="metrics-buckets">
        Charts: one point per {bucket} over the last {span}.
      </p>
      <div className="chart-grid">
        <TimeChart
          title="Auto-subscribe success rate"
          unit="%"
          lines={[{ label: 'success', points: m.autoSubscribe.series, color: CHART_COLORS.put, map: toPercent }]}
          thresholds={[{ value: minSuccess, label: `alert below ${minSuccess.toFixed(0)}%`, tag: `${minSuccess.toFixed(0)}%`, color: CHART_COLORS.call }]}
          testId="chart-success"
          window={m.window}
          stepSeconds={m.stepSeconds}
          yMin={0}
          yMax={100}
        />
        <TimeChart
          title="Time to data"
          unit="s"
          lines={[{ label: 'worst per step', points: m.timeToData.series, color: CHART_COLORS.accent }]}
          thresholds={[
            { value: t.timeToDataSeconds, label: `alert above ${t.timeToDataSeconds} s`, tag: `${t.timeToDataSeconds} s`, color: CHART_COLORS.call },
          ]}
          testId="chart-ttd"
          window={m.window}
          stepSeconds={m.stepSeconds}
          note="Worst subscribe-to-first-bar per step; the dashed line is the slow_data limit"
        />
        <Histogram title="Time to data, distribution" buckets={m.timeToData.histogram} threshold={t.timeToDataSeconds} total={m.timeToData.count} />
        <TimeChart
          title="Backfill efficiency (per cycle)"
          unit="per cycle"
          lines={[
            { label: 'instruments', points: m.backfill.seriesInstruments, color: CHART_COLORS.violet },
            { label: 'requests', points: m.backfill.seriesRequests, color: CHART_COLORS.amber },
          ]}
          thresholds={
            cycle
              ? [
                  {
                    value: cycle.minimumRequests,
                    label: `minimum requests last cycle: ${cycle.minimumRequests}`,
                    tag: `min ${cycle.minimumRequests}`,
                    color: CHART_COLORS.put,
                  },
                ]
              : []
          }
          testId="chart-backfill"
          window={m.window}
          stepSeconds={m.stepSeconds}
        />
        <TimeChart
          title="Subscription API calls per hour"
          unit="calls"
          lines={[{ label: 'calls in the trailing hour', points: m.subscriptionCalls.seriesPerHour, color: CHART_COLORS.accent }]}
          thresholds={[
            {
              value: t.subscriptionCallsPerHour,
              label: `alert above ${fmtInt(t.subscriptionCallsPerHour)}/h`,
              tag: `${fmtInt(t.subscriptionCallsPerHour)}/h`,
              color: CHART_COLORS.call,
            },
          ]}
          testId="chart-calls"
          window={m.window}
          stepSeconds={m.stepSeconds}
          note="At each point, the calls in the hour up to it: what the alert compares with its limit"
        />
      </div>
    </>
  );
}
