import type { FlagService } from '../flags/flags';
import type { PushHub } from './push';
import type { Handlers } from './console-api';

export function flagHandlers(flags: FlagService, push: PushHub): Pick<Handlers, 'flags:list' | 'flags:set' | 'flags:audit'> {
  return {
    'flags:list': () => flags.list(),
    'flags:set': (req, ctx) => {
      const view = flags.set(req.key, req.value, ctx.actor, req.reason);
      push.publish('flags:changed');
      return view;
    },
    'flags:audit': (req) => flags.audit(req.limit),
  };
}
