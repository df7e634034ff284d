// The quotes step of the composition root: the latest-tick book on the feed bus and the chain:quote channel
// (strike detail depth, the header strip's nearest future). Without a tick source there is nothing to quote and
// the channel answers "not available" like any service that did not start.
import type { AppContext } from '../app/app';
import type { ChainQuote } from '../../shared/api';
import { istDate } from '../../shared/calendar/ist';
import { nearestFuture, TickBook } from './book';

export function startQuotes(context: AppContext): TickBook | undefined {
  if (!context.bus) return undefined;
  const book = new TickBook(() => context.clock.now());
  book.attach(context.bus);
  context.onStop('quotes', () => book.detach());
  const registry = context.registry;
  context.api.register({
    'chain:quote': async (req): Promise<ChainQuote> => {
      const quotes = req.tokens.map((token) => book.quote(token));
      let future: ChainQuote['future'] = null;
      if (req.future && registry) {
        const futures = await registry.futures(req.symbol);
        future = nearestFuture(book, futures, istDate(context.clock.now()));
      }
      return { symbol: req.symbol, quotes, future };
    },
  });
  return book;
}
