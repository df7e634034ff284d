// User story: operators answer alerts and every answer names a person. Alice works headless with her own named
// token (STRIKEDESK_API_TOKENS): she lowers a threshold with a reason, the screen where thresholds are set lists her
// change; an alert fires and the banner raises it. The operator at the console (the token printed in its URL: the OS
// user who started it) acknowledges it with a reason: the banner and the alerts table say who took it. He silences
// the rule: the banner drops it, the table and the silence list say who silenced it, why and until when; lifting
// the silence brings it back. Bad requests name their field. Alice's backfill job shows her name and her reason.
import { userInfo } from 'node:os';
import { expect, test } from '@playwright/test';
import type { Channel, RequestOf } from '../src/shared/api';
import { useConsole, valueOf } from './support/console';
import { openScreen, saveScreen } from './support/screens';

const ALICE_TOKEN = 'alice-token-0123456789-abcdefghij';
const sd = useConsole({ env: { STRIKEDESK_API_TOKENS: `alice:${ALICE_TOKEN}` } });
const OS_ACTOR = `os:${userInfo().username}`;
const RULE = 'excessive_subscription_calls';

async function asAlice<C extends Channel>(channel: C, request: RequestOf<C>) {
  const response = await fetch(`${sd().base}/api/${channel}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ALICE_TOKEN}` },
    body: JSON.stringify(request),
  });
  return { status: response.status, body: (await response.json()) as { ok: boolean; value?: unknown; error?: { field?: string; message: string } } };
}

test('acknowledge and silence an alert with a reason; the audit names a person', async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto(sd().consoleUrl);
  await expect(page.locator('[data-screen="chain"]')).toBeVisible();

  // Alice lowers the subscription-calls limit to 1 an hour: the chain's own subscription calls exceed it.
  const set = await asAlice('alerts:thresholds', { subscriptionCallsPerHour: 1, reason: 'drill: make the calls alert fire' });
  expect(set.status).toBe(200);
  await openScreen(page, 'Metrics', 'metrics');
  const audit = page.getByTestId('threshold-audit');
  await expect(audit.locator('tbody tr').first()).toContainText('alice');
  await expect(audit.locator('tbody tr').first()).toContainText('drill: make the calls alert fire');
  await expect(audit.locator('tbody tr').first()).toContainText('Subscription calls per hour');

  const banner = page.getByTestId('alert-banner');
  await expect(banner.locator(`li[data-rule="${RULE}"]`)).toBeVisible({ timeout: 90_000 });
  const row = page.getByTestId('alerts-table').locator('tbody tr[data-state="firing"]').filter({ hasText: RULE });

  // Refused with the field named.
  const firing = valueOf(await sd().call('alerts:list', {}), 'alerts:list').active.find((a) => a.rule === RULE);
  expect(firing).toBeDefined();
  const badAck = await sd().call('alerts:acknowledge', { id: firing!.id, reason: 'x' });
  expect(badAck.ok).toBe(false);
  if (!badAck.ok) expect(badAck.error.field).toBe('reason');
  const badSilence = await sd().call('alerts:silence', { rule: RULE, reason: 'long enough', minutes: 1 });
  expect(badSilence.ok).toBe(false);
  if (!badSilence.ok) expect(badSilence.error.field).toBe('minutes');
  const badRule = await asAlice('alerts:silence', { rule: 'no_such_rule' as never, reason: 'long enough', minutes: 30 });
  expect(badRule.status).toBe(400);
  expect(badRule.body.error?.field).toBe('rule');

  // Acknowledge from the screen: the console's own operator is the OS user.
  await row.getByRole('button', { name: `Acknowledge alert ${firing!.id} (${RULE})` }).click();
  const ackDialog = page.getByRole('dialog', { name: `Acknowledge ${RULE}` });
  await ackDialog.getByRole('textbox').fill('looking at the subscription cache');
  await ackDialog.getByRole('button', { name: 'Acknowledge' }).click();
  await expect(ackDialog).toBeHidden();
  await expect(row.getByTestId('alert-answer')).toContainText(`Acknowledged by ${OS_ACTOR}`);
  await expect(row.getByTestId('alert-answer')).toContainText('looking at the subscription cache');
  await expect(banner.locator(`li[data-rule="${RULE}"]`)).toContainText(`acknowledged by ${OS_ACTOR}`);
  await saveScreen(page, 'alerts-acknowledged', { fullPage: false });
  // A second acknowledgement is refused: the first answer stays.
  const again = await asAlice('alerts:acknowledge', { id: firing!.id, reason: 'me too please' });
  expect(again.status).toBe(409);
  expect(again.body.error?.message).toContain(`already acknowledged by ${OS_ACTOR}`);

  // Silence the rule for an hour: the banner drops it; the table and the silence list say who, why, until when.
  await row.getByRole('button', { name: `Silence rule ${RULE}` }).click();
  const silenceDialog = page.getByRole('dialog', { name: `Silence ${RULE}` });
  await silenceDialog.getByRole('combobox').selectOption('60');
  await silenceDialog.getByRole('textbox').fill('drill in progress');
  await silenceDialog.getByRole('button', { name: 'Silence' }).click();
  await expect(silenceDialog).toBeHidden();
  await expect(page.locator(`[data-testid="alert-banner"] li[data-rule="${RULE}"]`)).toHaveCount(0);
  await expect(row.getByTestId('alert-answer')).toContainText(`Silenced by ${OS_ACTOR}`);
  const silences = page.getByTestId('silences');
  await expect(silences.locator(`li[data-rule="${RULE}"]`)).toContainText('drill in progress');
  const list = valueOf(await sd().call('alerts:list', {}), 'alerts:list');
  const silence = list.silences.find((s) => s.rule === RULE);
  expect(silence).toMatchObject({ by: OS_ACTOR, reason: 'drill in progress', liftedAt: null });
  // Until: one hour after it was set.
  expect(Date.parse(silence!.until) - Date.parse(silence!.at)).toBe(60 * 60_000);
  // On another screen too, the silenced rule stays out of the banner.
  await openScreen(page, 'Flags', 'flags');
  await expect(page.locator(`[data-testid="alert-banner"] li[data-rule="${RULE}"]`)).toHaveCount(0);
  await openScreen(page, 'Metrics', 'metrics');
  await silences.scrollIntoViewIfNeeded();
  await saveScreen(page, 'alerts-silenced', { fullPage: false });

  // Lifting the silence brings it back to the banner.
  await silences.getByRole('button', { name: `Lift the silence on ${RULE}` }).click();
  await expect(banner.locator(`li[data-rule="${RULE}"]`)).toBeVisible();
  const lifted = valueOf(await sd().call('alerts:list', {}), 'alerts:list');
  expect(lifted.silences.filter((s) => s.rule === RULE)).toEqual([]);
});

test('a named token is the actor of flag changes and backfill jobs, and the job shows its reason', async ({ page }) => {
  test.setTimeout(120_000);
  const flag = await asAlice('flags:set', { key: 'backfill_immediate_on_subscribe', value: false, reason: 'alice checks the audit' });
  expect(flag.status).toBe(200);
  const flagAudit = valueOf(await sd().call('flags:audit', { limit: 5 }), 'flags:audit');
  expect(flagAudit[0]).toMatchObject({ actor: 'alice', reason: 'alice checks the audit' });

  const started = await asAlice('backfill:start', { scope: { kind: 'symbol', symbol: 'NIFTY' }, lookbackMinutes: 15, reason: 'gap after the 10:05 outage' });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const job = started.body.value as { id: number; createdBy: string; reason: string | null };
  expect(job).toMatchObject({ createdBy: 'alice', reason: 'gap after the 10:05 outage' });

  await page.goto(sd().consoleUrl);
  await openScreen(page, 'Backfill', 'backfill');
  const row = page.getByTestId('backfill-jobs').locator(`tbody tr[data-job-id="${job.id}"]`);
  await expect(row).toContainText('by alice');
  await expect(row.getByTestId('job-reason')).toHaveText('Reason: gap after the 10:05 outage');

  // A wrong token is refused, not recorded as anybody.
  const response = await fetch(`${sd().base}/api/flags:list`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ALICE_TOKEN}x` },
    body: '{}',
  });
  expect(response.status).toBe(401);
});

test('a short metrics window has short buckets: 15 minutes in 15-second steps', async ({ page }) => {
  await page.goto(sd().consoleUrl);
  await openScreen(page, 'Metrics', 'metrics');
  await page.getByRole('combobox', { name: 'Metrics window' }).selectOption({ label: 'last 15 min' });
  await expect(page.getByTestId('metrics-buckets')).toHaveText('Charts: one point per 15 s over the last 15 min.');
  const summary = valueOf(await sd().call('metrics:summary', { minutes: 15 }), 'metrics:summary');
  expect(summary.stepSeconds).toBe(15);
  expect(summary.autoSubscribe.series.every((p) => p.t % 15_000 === 0)).toBe(true);
  expect(Date.parse(summary.window.to) - Date.parse(summary.window.from)).toBeLessThanOrEqual(15 * 60_000);
  await page.getByRole('combobox', { name: 'Metrics window' }).selectOption({ label: 'last 1 d' });
  await expect(page.getByTestId('metrics-buckets')).toHaveText('Charts: one point per 5 min over the last 1 d.');
  const bad = await sd().call('metrics:summary', { minutes: 2 });
  expect(bad.ok).toBe(false);
  if (!bad.ok) expect(bad.error.field).toBe('minutes');
  await saveScreen(page, 'metrics-15min', { fullPage: false });
});
