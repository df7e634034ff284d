// chain:quote over the quotes service (src/main/quotes): the latest tick per token (depth) and the nearest future.
import type { QuoteService } from '../quotes/service';
import type { Handlers } from './console-api';

export function quoteHandlers(quotes: QuoteService): Pick<Handlers, 'chain:quote'> {
  return { 'chain:quote': (req) => quotes.quote(req) };
}
