import { runningServers, stopServers } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  await stopServers(runningServers());
}
