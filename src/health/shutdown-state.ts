import { Injectable } from '@nestjs/common';

/** Set when SIGTERM arrives, so /readyz turns 503 at once and the load balancer drains us. */
@Injectable()
export class ShutdownState {
  draining = false;
}
