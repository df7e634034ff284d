// Backfill, after Dagster's run list and partition grid: jobs with who started them (an operator or the console),
// what they fill, start, end and duration, progress, rows, notes apart from errors, and one action per state
// (cancel a queued job, stop a running one, retry a failed one, resume a cancelled one over the same window);
// "Backfill now" behind a confirmation that shows the plan (and no Start when there is nothing to fetch); the
// coverage grid per strike and time slot over one or several sessions, full width.
import { useState } from 'react';
import type { BackfillJob, BackfillScope, JobState } from '../../../shared/api';
import { useBackfillJobs, useCancelJob, useRetryJob } from '../../api/backfill';
import { Badge, ProgressBar, Section, type Tone } from '../../components/Bits';
import { InlineError, QueryView } from '../../components/States';
import { fmtDuration, fmtInt } from '../../format/numbers';
import { istDateTime, istRange, istTime, useNow } from '../../format/time';
import { BackfillNow, PlanDialog } from './BackfillNow';
import { CoverageGrid } from './CoverageGrid';
import { durationSeconds, noteAndError, resumable, sessionMinutesBetween, triggerOf, type Trigger } from './jobModel';

type StateFilter = JobState | 'all';
const FILTERS: StateFilter[] = ['all', 'queued', 'running', 'done', 'failed', 'cancelled'];
export const JOB_TONE: Record<JobState, Tone> = { queued: 'info', running: 'info', done: 'ok', failed: 'bad', cancelled: 'muted' };

export function BackfillScreen() {
  const [state, setState] = useState<StateFilter>('all');
  const [trigger, setTrigger] = useState<Trigger | 'all'>('all');
  const [resuming, setResuming] = useState<{ job: BackfillJob; request: { scope: BackfillScope; lookbackMinutes: number } } | null>(null);
  const jobs = useBackfillJobs({ state, limit: 200 });
  return (
    <div className="screen" data-screen="backfill">
      <BackfillNow />
      <Section
        title="Jobs"
        id="jobs-title"
        actions={
          <div className="toolbar">
            <label className="inline-field">
              <span>Started by</span>
              <select value={trigger} onChange={(e) => setTrigger(e.target.value as Trigger | 'all')} aria-label="Filter jobs by who started them">
                <option value="all">anyone</option>
                <option value="manual">an operator (manual)</option>
                <option value="automatic">the console (automatic)</option>
              </select>
            </label>
            <label className="inline-field">
              <span>State</span>
              <select value={state} onChange={(e) => setState(e.target.value as StateFilter)} aria-label="Filter jobs by state">
                {FILTERS.map((f) => (
                  <option key={f} value={f}>
                    {f}
                  </option>
                ))}
              </select>
            </label>
          </div>
        }
      >
        <QueryView query={jobs} what="backfill jobs">
          {(all) => {
            const list = trigger === 'all' ? all : all.filter((j) => triggerOf(j) === trigger);
            return list.length === 0 ? (
              <p className="muted">
                No backfill jobs{state !== 'all' ? ` in state ${state}` : ''}
                {trigger !== 'all' ? ` started ${trigger === 'manual' ? 'by an operator' : 'by the console'}` : ''}.
              </p>
            ) : (
              <JobTable jobs={list} onResume={(job) => setResuming({ job, request: resumeRequest(job, Date.now()) })} />
            );
          }}
        </QueryView>
      </Section>
      <CoverageGrid />
      {resuming && (
        <PlanDialog
          title={`Resume job #${resuming.job.id}: ${resuming.job.label}?`}
          request={resuming.request}
          defaultReason={`resume of cancelled job #${resuming.job.id}`}
          onClose={() => setResuming(null)}
        />
      )}
    </div>
  );
}

/** The same scope over the same window start: a new plan fetches only what the cancelled job left missing. */
export function resumeRequest(job: BackfillJob, now: number): { scope: BackfillScope; lookbackMinutes: number } {
  return { scope: job.scope, lookbackMinutes: Math.min(43_200, Math.max(1, sessionMinutesBetween(Date.parse(job.windowStart), now))) };
}

function JobTable({ jobs, onResume }: { jobs: BackfillJob[]; onResume: (job: BackfillJob) => void }) {
  const now = useNow(1000);
  return (
    <div className="table-scroll">
      <table className="table jobs-table" data-testid="backfill-jobs">
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Window filled (IST)</th>
            <th scope="col">State</th>
            <th scope="col">Progress</th>
            <th scope="col" className="num">
              Rows
            </th>
            <th scope="col">Start · end (IST)</th>
            <th scope="col" className="num">
              Duration / ETA
            </th>
            <th scope="col">Notes and errors</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => (
            <JobRow key={job.id} job={job} now={now} onResume={onResume} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function JobRow({ job, now, onResume }: { job: BackfillJob; now: number; onResume: (job: BackfillJob) => void }) {
  const cancel = useCancelJob();
  const retry = useRetryJob();
  const trigger = triggerOf(job);
  const { note, error } = noteAndError(job);
  const duration = durationSeconds(job, now);
  return (
    <tr data-job-id={job.id} data-state={job.state} data-trigger={trigger}>
      <td>
        <div className="strong">
          #{job.id} {job.label}
        </div>
        <div className="small muted">
          <Badge tone={trigger === 'manual' ? 'info' : 'muted'} title={job.reason && trigger !== 'manual' ? `Why: ${job.reason}` : undefined}>
            {trigger}
          </Badge>{' '}
          {fmtInt(job.instruments)} instruments · by <span className="mono">{job.createdBy}</span> · {istDateTime(job.createdAt)}
        </div>
        {/* The operator's reason on its own line; an automatic job's reason (the event that queued it) names the same
            instrument as its label, so it stays in the badge's tooltip rather than doubling every row's height. */}
        {job.reason && trigger === 'manual' && (
          <div className="small job-reason" data-testid="job-reason">
            <span className="muted">Reason:</span> {job.reason}
          </div>
        )}
      </td>
      <td className="nowrap small">{istRange(job.windowStart, job.windowEnd)}</td>
      <td>
        <Badge tone={JOB_TONE[job.state]}>{job.stopRequested && job.state === 'running' ? 'stopping' : job.state}</Badge>
        {job.attempts > 1 && <span className="small muted"> attempt {job.attempts}</span>}
      </td>
      <td className="progress-cell">
        <ProgressBar
          done={job.requestsDone}
          total={job.requestsPlanned}
          label={`Job ${job.id} requests`}
          tone={job.state === 'failed' ? 'bad' : job.state === 'done' ? 'ok' : 'info'}
        />
        <span className="small mono">
          {fmtInt(job.requestsDone)}/{fmtInt(job.requestsPlanned)} requests
        </span>
      </td>
      <td className="num mono">{fmtInt(job.rowsWritten)}</td>
      <td className="nowrap small" data-testid="job-times">
        {job.startedAt ? istTime(job.startedAt) : 'not started'} · {job.finishedAt ? istTime(job.finishedAt) : job.startedAt ? 'running' : '–'}
      </td>
      <td className="num small">
        {job.state === 'running' || job.state === 'queued' ? (
          <>
            {duration !== null && <div>{fmtDuration(duration)}</div>}
            <div className="muted">ETA {fmtDuration(job.etaSeconds)}</div>
          </>
        ) : (
          fmtDuration(duration)
        )}
      </td>
      <td className="small wrap">
        {error && (
          <span className="bad-text" data-testid="job-error">
            {error}
          </span>
        )}
        {note && (
          <span className="muted" data-testid="job-note">
            {note}
          </span>
        )}
      </td>
      <td className="nowrap">
        {job.state === 'queued' && (
          <button type="button" onClick={() => cancel.mutate({ id: job.id })} disabled={cancel.isPending} aria-label={`Cancel queued job ${job.id}`}>
            Cancel
          </button>
        )}
        {job.state === 'running' && (
          <button
            type="button"
            onClick={() => cancel.mutate({ id: job.id })}
            disabled={cancel.isPending || job.stopRequested}
            aria-label={`Stop running job ${job.id}`}
          >
            {job.stopRequested ? 'Stopping…' : 'Stop'}
          </button>
        )}
        {job.state === 'failed' && (
          <button type="button" onClick={() => retry.mutate({ id: job.id })} disabled={retry.isPending} aria-label={`Retry failed job ${job.id}`}>
            Retry
          </button>
        )}
        {resumable(job) && (
          <button
            type="button"
            onClick={() => onResume(job)}
            aria-label={`Resume cancelled job ${job.id}`}
            title="Plan the same scope and window again: only what is still missing is fetched"
          >
            Resume…
          </button>
        )}
        <InlineError error={cancel.error ?? retry.error} />
      </td>
    </tr>
  );
}
