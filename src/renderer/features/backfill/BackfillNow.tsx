// "Backfill now" for a chain or one instrument. Nothing starts until the operator has seen the plan (instruments,
// history requests, missing minutes, ETA at the shared 3 requests/s) and confirmed it.
import { useState } from 'react';
import type { BackfillScope } from '../../../shared/api';
import { useBackfillJobs, useBackfillPlan, useStartBackfill } from '../../api/backfill';
import { useUnderlyings } from '../../api/chain';
import { Section } from '../../components/Bits';
import { Dialog } from '../../components/Dialog';
import { ErrorPanel, InlineError, Loading } from '../../components/States';
import { fmtDuration, fmtInt } from '../../format/numbers';
import { fmtExpiry, istDateTime } from '../../format/time';

const FALLBACK = ['NIFTY', 'BANKNIFTY', 'FINNIFTY', 'MIDCPNIFTY'];

export function BackfillNow() {
  const underlyings = useUnderlyings();
  const [kind, setKind] = useState<'chain' | 'instrument'>('chain');
  const [symbol, setSymbol] = useState('NIFTY');
  const [expiries, setExpiries] = useState<string[]>([]);
  const [strikeRange, setStrikeRange] = useState(10);
  const [token, setToken] = useState('');
  const [lookback, setLookback] = useState('');
  const [planning, setPlanning] = useState<{ scope: BackfillScope; lookbackMinutes?: number } | null>(null);
  const [started, setStarted] = useState<{ id: number; text: string } | null>(null);
  // The "queued" notice lasts while its job is queued or running; the jobs table tells how it ended.
  const jobs = useBackfillJobs({ state: 'all', limit: 200 });
  const startedJob = started ? jobs.data?.find((j) => j.id === started.id) : undefined;
  const notice =
    started && !(startedJob && (startedJob.state === 'done' || startedJob.state === 'failed' || startedJob.state === 'cancelled')) ? started.text : null;

  const symbols = underlyings.data?.length ? underlyings.data.map((u) => u.symbol) : FALLBACK;
  const expiryChoices = underlyings.data?.find((u) => u.symbol === symbol)?.expiries ?? [];
  const tokenNumber = Number(token);
  const tokenValid = Number.isInteger(tokenNumber) && tokenNumber > 0;
  const lookbackNumber = lookback.trim() === '' ? undefined : Number(lookback);
  const lookbackValid = lookbackNumber === undefined || (Number.isInteger(lookbackNumber) && lookbackNumber >= 1 && lookbackNumber <= 43200);

  const open = () => {
    const scope: BackfillScope =
      kind === 'chain' ? { kind: 'chain', symbol, strikeRange, ...(expiries.length ? { expiries } : {}) } : { kind: 'instrument', token: tokenNumber };
    setStarted(null);
    setPlanning({ scope, ...(lookbackNumber !== undefined ? { lookbackMinutes: lookbackNumber } : {}) });
  };

  return (
    <Section title="Backfill now" id="backfill-now-title">
      <form
        className="backfill-now"
        onSubmit={(event) => {
          event.preventDefault();
          open();
        }}
      >
        <div className="segmented" role="group" aria-label="What to backfill">
          <button type="button" aria-pressed={kind === 'chain'} onClick={() => setKind('chain')}>
            A chain
          </button>
          <button type="button" aria-pressed={kind === 'instrument'} onClick={() => setKind('instrument')}>
            An instrument
          </button>
        </div>
        {kind === 'chain' ? (
          <>
            <label className="inline-field">
              <span>Underlying</span>
              <select
                value={symbol}
                aria-label="Backfill underlying"
                onChange={(e) => {
                  setSymbol(e.target.value);
                  setExpiries([]);
                }}
              >
                {symbols.map((s) => (
                  <option key={s}>{s}</option>
                ))}
              </select>
            </label>
            <label className="inline-field">
              <span>Strikes</span>
              <input
                type="number"
                min={1}
                max={100}
                value={strikeRange}
                onChange={(e) => setStrikeRange(Math.max(1, Math.min(100, Number(e.target.value) || 1)))}
                aria-label="Strikes each side of ATM"
                className="narrow"
              />
            </label>
            {expiryChoices.length > 0 && (
              <fieldset className="expiry-checks">
                <legend className="small muted">Expiries (none: nearest)</legend>
                {expiryChoices.slice(0, 6).map((e) => (
                  <label key={e.expiry} className="check">
                    <input
                      type="checkbox"
                      checked={expiries.includes(e.expiry)}
                      onChange={(ev) => setExpiries((prev) => (ev.target.checked ? [...prev, e.expiry] : prev.filter((x) => x !== e.expiry)))}
                    />
                    {fmtExpiry(e.expiry)}
                  </label>
                ))}
              </fieldset>
            )}
          </>
        ) : (
          <label className="inline-field">
            <span>Token</span>
            <input
              value={token}
              onChange={(e) => setToken(e.target.value)}
              placeholder="instrument token"
              aria-label="Instrument token"
              aria-invalid={token !== '' && !tokenValid}
            />
          </label>
        )}
        <label className="inline-field">
          <span>Lookback</span>
          <input
            value={lookback}
            onChange={(e) => setLookback(e.target.value)}
            placeholder="default"
            aria-label="Lookback minutes"
            className="narrow"
            aria-invalid={!lookbackValid}
          />
          <span className="small muted">min</span>
        </label>
        <button type="submit" className="primary" disabled={(kind === 'instrument' && !tokenValid) || !lookbackValid}>
          Backfill now…
        </button>
        {notice && (
          <span role="status" className="small ok-text" data-testid="backfill-notice">
            {notice}
          </span>
        )}
      </form>
      {planning && (
        <PlanDialog
          request={planning}
          onClose={(job) => {
            setPlanning(null);
            if (job) setStarted(job);
          }}
        />
      )}
    </Section>
  );
}

export function PlanDialog({
  request,
  onClose,
  title: givenTitle,
  defaultReason = '',
}: {
  request: { scope: BackfillScope; lookbackMinutes?: number };
  onClose: (started: { id: number; text: string } | null) => void;
  title?: string;
  defaultReason?: string;
}) {
  const plan = useBackfillPlan(request);
  const start = useStartBackfill();
  const [reason, setReason] = useState(defaultReason);
  const title =
    givenTitle ??
    (request.scope.kind === 'chain'
      ? `Backfill the ${request.scope.symbol} chain now?`
      : request.scope.kind === 'instrument'
        ? `Backfill instrument ${request.scope.token} now?`
        : 'Backfill now?');
  const nothingToDo = plan.data !== undefined && plan.data.plannedRequests === 0;
  return (
    <Dialog title={title} open onClose={() => onClose(null)} labelId="plan-title">
      {plan.isPending && <Loading what="the plan" />}
      {plan.isError && <ErrorPanel error={plan.error} what="the backfill plan" onRetry={() => void plan.refetch()} retrying={plan.isFetching} />}
      {plan.data && (
        <>
          <dl className="plan" data-testid="backfill-plan">
            <dt>Instruments</dt>
            <dd>{fmtInt(plan.data.instruments)}</dd>
            <dt>History requests</dt>
            <dd data-testid="plan-requests">{fmtInt(plan.data.plannedRequests)}</dd>
            <dt>Missing minutes</dt>
            <dd>{fmtInt(plan.data.missingMinutes)}</dd>
            <dt>Estimated time</dt>
            <dd>{fmtDuration(plan.data.etaSeconds)}</dd>
            <dt>Window</dt>
            <dd className="small">
              {istDateTime(plan.data.windowStart)} → {istDateTime(plan.data.windowEnd)}
            </dd>
          </dl>
          {plan.data.notes.length > 0 && (
            <ul className="small muted">
              {plan.data.notes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          )}
          {nothingToDo ? (
            <p className="muted" data-testid="plan-nothing">
              Nothing is missing in this window: there is nothing to fetch, so there is nothing to start.
            </p>
          ) : (
            <label className="field">
              <span>Reason (optional, kept with the job)</span>
              <input value={reason} maxLength={200} onChange={(e) => setReason(e.target.value)} />
            </label>
          )}
        </>
      )}
      <InlineError error={start.error} />
      <div className="dialog-actions">
        <button type="button" onClick={() => onClose(null)}>
          {nothingToDo ? 'Close' : 'Cancel'}
        </button>
        {!nothingToDo && (
          <button
            type="button"
            className="primary"
            disabled={!plan.data || start.isPending}
            onClick={() =>
              start.mutate(
                { ...request, ...(reason.trim() ? { reason: reason.trim() } : {}) },
                { onSuccess: (job) => onClose({ id: job.id, text: `Job #${job.id} ${job.state}: ${job.label}` }) },
              )
            }
          >
            {start.isPending ? 'Starting…' : 'Start backfill'}
          </button>
        )}
      </div>
    </Dialog>
  );
}
