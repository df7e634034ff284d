// What the window's process needs of the console core, whichever way it reaches it: the IPC handlers (Electron)
// and the headless front call it. CoreClient implements it across a process boundary.
import type { PushEvent } from '../../shared/api';
import type { Result } from '../../shared/result';

export interface ContractEndpoint {
  /** One contract call; errors come back as values ({ok:false, error}), never as a rejection. */
  call(channel: string, request: unknown, ctx: { actor: string }): Promise<Result<unknown>>;
  /** Pushed events; returns the unsubscribe function. */
  subscribe(listener: (event: PushEvent) => void): () => void;
}
