// Who acts in the Electron window: the OS user (over HTTP the actor is the API client). Computed by the window's
// process, which passes it with each relayed call; kept here so that process never loads the console core's modules.
import { userInfo } from 'node:os';

export function localActor(): string {
  try {
    return `os:${userInfo().username}`;
  } catch {
    return 'os:unknown';
  }
}
