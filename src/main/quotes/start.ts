// The quotes step of the composition root: the latest-tick book on the feed bus and the chain:quote channel
// (strike detail depth, the header strip's nearest future). Without a tick source there is nothing to quote and
// the channel answers "not available" like any service that did not start.
import type { ChainQuote } from '../../shared/api';
import { istDate } from '../../shared/calendar/ist';
import type { Clock } from '../../shared/clock';
import type { FeedBus } from '../../shared/feed';
import type { ConsoleApi } from '../api/console-api';
import type { InstrumentRegistry } from '../registry/registry';
import { nearestFuture, TickBook } from './book';

export interface QuotesDeps {
  api: Pick<ConsoleApi, 'register'>;
  bus: FeedBus | undefined;
  registry: Pick<InstrumentRegistry, 'futures'> | undefined;
  clock: Clock;
  onStop(name: string, stop: () => void): void;
}

export function startQuotes(deps: QuotesDeps): TickBook | undefined {
  if (!deps.bus) return undefined;
  const book = new TickBook(() => deps.clock.now());
  book.attach(deps.bus);
  deps.onStop('quotes', () => book.detach());
  const { registry, clock } = deps;
  deps.api.register({
    'chain:quote': async (req): Promise<ChainQuote> => {
      const quotes = req.tokens.map((token) => book.quote(token));
      let future: ChainQuote['future'] = null;
      if (req.future && registry) future = nearestFuture(book, await registry.futures(req.symbol), istDate(clock.now()));
      return { symbol: req.symbol, quotes, future };
    },
  });
  return book;
}
