// Circuit breaker over the ticker service: after `failureThreshold` consecutive failures that say "the service is
// not answering" (5xx, timeouts, refused connections) calls fail fast for a cool-down, then ONE trial call is let
// through (half-open): success closes the circuit, failure opens it again with a longer cool-down (doubling, capped).
// 4xx answers, 429s and Kite-side 502s prove the service is up and never count as failures.
import type { Clock } from '../../shared/clock';

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  failureThreshold?: number;
  coolDownMs?: number;
  maxCoolDownMs?: number;
}

export interface BreakerView {
  state: CircuitState;
  consecutiveFailures: number;
  openedAt: number | null;
  /** When a trial call will be allowed (open state), else null. */
  retryAt: number | null;
  opens: number;
}

export class CircuitBreaker {
  private readonly threshold: number;
  private readonly baseCoolDown: number;
  private readonly maxCoolDown: number;
  private failures = 0;
  private openedAt: number | null = null;
  private coolDown: number;
  private trialInFlight = false;
  private opens = 0;

  constructor(
    private readonly clock: Clock,
    options: BreakerOptions = {},
  ) {
    this.threshold = options.failureThreshold ?? 5;
    this.baseCoolDown = options.coolDownMs ?? 10_000;
    this.maxCoolDown = options.maxCoolDownMs ?? 60_000;
    this.coolDown = this.baseCoolDown;
  }

  get state(): CircuitState {
    if (this.openedAt === null) return 'closed';
    return this.clock.now() - this.openedAt >= this.coolDown ? 'half_open' : 'open';
  }

  /**
   * Asks to send one call. Returns false (fail fast) while open, or while a half-open trial is in flight.
   * A caller given true MUST report success() or failure() (or neutral()) afterwards.
   */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  /** When the circuit lets a call through again (now when closed). */
  retryAt(): number {
    if (this.openedAt === null) return this.clock.now();
    return this.openedAt + this.coolDown;
  }

  success(): void {
    this.failures = 0;
    this.openedAt = null;
    this.coolDown = this.baseCoolDown;
    this.trialInFlight = false;
  }

  /** The call got an answer that is neither success nor a service failure (4xx, 429): the service is up. */
  neutral(): void {
    this.success();
  }

  failure(): void {
    this.failures++;
    const wasTrial = this.trialInFlight;
    this.trialInFlight = false;
    if (wasTrial) {
      this.coolDown = Math.min(this.maxCoolDown, this.coolDown * 2);
      this.open();
      return;
    }
    if (this.openedAt === null && this.failures >= this.threshold) this.open();
  }

  view(): BreakerView {
    const state = this.state;
    return {
      state,
      consecutiveFailures: this.failures,
      openedAt: this.openedAt,
      retryAt: state === 'closed' ? null : this.retryAt(),
      opens: this.opens,
    };
  }

  private open(): void {
    this.openedAt = this.clock.now();
    this.opens++;
  }
}
