// Backfill, after Dagster's run list and partition grid: jobs with progress, ETA, rows and errors, and separate
// actions per state (cancel a queued job, stop a running one, retry a failed one); "Backfill now" for an instrument
// or a chain behind a confirmation that shows the plan; the coverage grid per strike and time slot.
import { useState } from 'react';
import type { BackfillJob, JobState } from '../../../shared/api';
import { useBackfillJobs, useCancelJob, useRetryJob } from '../../api/backfill';
import { Badge, ProgressBar, Section, type Tone } from '../../components/Bits';
import { InlineError, QueryView } from '../../components/States';
import { fmtDuration, fmtInt } from '../../format/numbers';
import { istDateTime, istRange } from '../../format/time';
import { BackfillNow } from './BackfillNow';
import { CoverageGrid } from './CoverageGrid';

type StateFilter = JobState | 'all';
const FILTERS: StateFilter[] = ['all', 'queued', 'running', 'done', 'failed', 'cancelled'];
export const JOB_TONE: Record<JobState, Tone> = { queued: 'info', running: 'info', done: 'ok', failed: 'bad', cancelled: 'muted' };

export function BackfillScreen() {
  const [state, setState] = useState<StateFilter>('all');
  const jobs = useBackfillJobs({ state, limit: 200 });
  return (
    <div className="screen" data-screen="backfill">
      <BackfillNow />
      <Section
        title="Jobs"
        id="jobs-title"
        actions={
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
        }
      >
        <QueryView query={jobs} what="backfill jobs">
          {(list) => (list.length === 0 ? <p className="muted">No backfill jobs{state !== 'all' ? ` in state ${state}` : ''}.</p> : <JobTable jobs={list} />)}
        </QueryView>
      </Section>
      <CoverageGrid />
    </div>
  );
}

function JobTable({ jobs }: { jobs: BackfillJob[] }) {
  return (
    <div className="table-scroll">
      <table className="table jobs-table" data-testid="backfill-jobs">
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Window (IST)</th>
            <th scope="col">State</th>
            <th scope="col">Progress</th>
            <th scope="col" className="num">
              Rows
            </th>
            <th scope="col" className="num">
              ETA
            </th>
            <th scope="col">Error</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => (
            <JobRow key={job.id} job={job} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function JobRow({ job }: { job: BackfillJob }) {
  const cancel = useCancelJob();
  const retry = useRetryJob();
  return (
    <tr data-job-id={job.id} data-state={job.state}>
      <td>
        <div className="strong">
          #{job.id} {job.label}
        </div>
        <div className="small muted">
          {job.priority} · {fmtInt(job.instruments)} instruments · by {job.createdBy} · {istDateTime(job.createdAt)}
        </div>
      </td>
      <td className="nowrap small">
        {istRange(job.windowStart, job.windowEnd)}
      </td>
      <td>
        <Badge tone={JOB_TONE[job.state]}>{job.stopRequested && job.state === 'running' ? 'stopping' : job.state}</Badge>
        {job.attempts > 1 && <span className="small muted"> attempt {job.attempts}</span>}
      </td>
      <td className="progress-cell">
        <ProgressBar done={job.requestsDone} total={job.requestsPlanned} label={`Job ${job.id} requests`} tone={job.state === 'failed' ? 'bad' : job.state === 'done' ? 'ok' : 'info'} />
        <span className="small mono">
          {fmtInt(job.requestsDone)}/{fmtInt(job.requestsPlanned)} requests
        </span>
      </td>
      <td className="num mono">{fmtInt(job.rowsWritten)}</td>
      <td className="num small">{job.state === 'running' || job.state === 'queued' ? fmtDuration(job.etaSeconds) : '–'}</td>
      <td className="small wrap bad-text">{job.lastError ?? ''}</td>
      <td className="nowrap">
        {job.state === 'queued' && (
          <button type="button" onClick={() => cancel.mutate({ id: job.id })} disabled={cancel.isPending} aria-label={`Cancel queued job ${job.id}`}>
            Cancel
          </button>
        )}
        {job.state === 'running' && (
          <button type="button" onClick={() => cancel.mutate({ id: job.id })} disabled={cancel.isPending || job.stopRequested} aria-label={`Stop running job ${job.id}`}>
            {job.stopRequested ? 'Stopping…' : 'Stop'}
          </button>
        )}
        {job.state === 'failed' && (
          <button type="button" onClick={() => retry.mutate({ id: job.id })} disabled={retry.isPending} aria-label={`Retry failed job ${job.id}`}>
            Retry
          </button>
        )}
        <InlineError error={cancel.error ?? retry.error} />
      </td>
    </tr>
  );
}
