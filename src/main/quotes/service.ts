// The quotes service: the latest-tick book on the feed bus, answering chain:quote (strike detail depth, the header
// strip's nearest future). Without a tick source there is nothing to quote: the composition root does not start it
// and the channel answers "not available" like any service that did not start.
import type { ChainQuote } from '../../shared/api';
import { istDate } from '../../shared/calendar/ist';
import type { Clock } from '../../shared/clock';
import type { FeedBus } from '../../shared/feed';
import type { InstrumentRegistry } from '../registry/registry';
import { nearestFuture, TickBook } from './book';

export interface QuotesDeps {
  bus: FeedBus;
  registry: Pick<InstrumentRegistry, 'futures'> | undefined;
  clock: Clock;
  onStop(name: string, stop: () => void): void;
}

export class QuoteService {
  readonly book: TickBook;

  constructor(private readonly deps: QuotesDeps) {
    this.book = new TickBook(() => deps.clock.now());
    this.book.attach(deps.bus);
    deps.onStop('quotes', () => this.book.detach());
  }

  async quote(req: { symbol: string; tokens: number[]; future: boolean }): Promise<ChainQuote> {
    const quotes = req.tokens.map((token) => this.book.quote(token));
    const { registry, clock } = this.deps;
    const future = req.future && registry ? nearestFuture(this.book, await registry.futures(req.symbol), istDate(clock.now())) : null;
    return { symbol: req.symbol, quotes, future };
  }
}
