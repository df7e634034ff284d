// A faithful TypeScript port of the original plan's SmartSubscriptionManager (its backend subscription improvements,
// Implementation 1), for the benchmark only. Its behaviour is kept as written, bugs included:
// - one GET /subscriptions?status=active (first page only, the service's default limit of 100) PER TOKEN not known;
// - a token whose POST failed once is in `subscriptionAttempts` for good: never retried (a 429 loses it);
// - a failed listing marks the token failed for this call only (it is not in `subscriptionAttempts`);
// - `_wait_for_data` sleeps 2 s steps until the timeout and then says data is available;
// - no rate limiting, no retries, no ordering: tokens are handled in the order given.
// The ticker client is the seed's plain HTTP client (raise on non-2xx), no limiter.

export interface SeedTickerClient {
  listSubscriptions(status: 'active'): Promise<{ instrument_token: number }[]>;
  subscribe(instrumentToken: number, requestedMode: string): Promise<{ tradingsymbol?: string }>;
}

/** The seed's ticker client: one plain request per call, raise_for_status. */
export function seedTickerClient(baseUrl: string): SeedTickerClient {
  const check = async (res: Response) => {
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 120)}`);
    return res.json();
  };
  return {
    listSubscriptions: async (status) => (await check(await fetch(`${baseUrl}/subscriptions?status=${status}`))) as { instrument_token: number }[],
    subscribe: async (instrumentToken, requestedMode) =>
      (await check(
        await fetch(`${baseUrl}/subscriptions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ instrument_token: instrumentToken, requested_mode: requestedMode }),
        }),
      )) as { tradingsymbol?: string },
  };
}

export interface SeedResult {
  already_subscribed: number[];
  newly_subscribed: number[];
  failed: number[];
  data_available: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class SeedSmartSubscriptionManager {
  /** Track tokens we've attempted to subscribe */
  private readonly subscriptionAttempts = new Set<number>();
  /** Track when we last checked subscription status */
  private readonly lastCheck = new Map<number, number>();
  /** Cache of known subscribed tokens */
  private readonly knownSubscribed = new Set<number>();

  constructor(private readonly tickerClient: SeedTickerClient) {}

  async ensureSubscribed(instrumentTokens: number[], waitForData = true, timeoutSeconds = 10.0): Promise<SeedResult> {
    const alreadySubscribed: number[] = [];
    const newlySubscribed: number[] = [];
    const failed: number[] = [];

    for (const token of instrumentTokens) {
      if (this.knownSubscribed.has(token)) {
        alreadySubscribed.push(token);
        continue;
      }
      const checkedAt = this.lastCheck.get(token);
      if (checkedAt !== undefined) {
        const timeSinceCheck = (Date.now() - checkedAt) / 1000;
        if (timeSinceCheck < 60) {
          alreadySubscribed.push(token);
          continue;
        }
      }
      try {
        const subscriptions = await this.tickerClient.listSubscriptions('active');
        const subscribedTokens = new Set(subscriptions.map((s) => s.instrument_token));
        if (subscribedTokens.has(token)) {
          alreadySubscribed.push(token);
          this.knownSubscribed.add(token);
          this.lastCheck.set(token, Date.now());
        } else if (await this.subscribeToken(token)) {
          newlySubscribed.push(token);
          this.knownSubscribed.add(token);
        } else {
          failed.push(token);
        }
      } catch {
        failed.push(token);
      }
    }

    let dataAvailable = false;
    if (waitForData && newlySubscribed.length > 0) dataAvailable = await this.waitForData(newlySubscribed, timeoutSeconds);
    return {
      already_subscribed: alreadySubscribed,
      newly_subscribed: newlySubscribed,
      failed,
      data_available: dataAvailable || alreadySubscribed.length > 0,
    };
  }

  private async subscribeToken(instrumentToken: number): Promise<boolean> {
    if (this.subscriptionAttempts.has(instrumentToken)) return false;
    this.subscriptionAttempts.add(instrumentToken);
    try {
      await this.tickerClient.subscribe(instrumentToken, 'FULL');
      return true;
    } catch {
      return false;
    }
  }

  /** "Polls database every second" — in the seed it sleeps 2 s steps until the timeout and assumes data. */
  private async waitForData(_tokens: number[], timeoutSeconds: number): Promise<boolean> {
    const start = Date.now();
    while ((Date.now() - start) / 1000 < timeoutSeconds) await sleep(2000);
    return true;
  }
}
