import { Injectable } from '@nestjs/common';
import { Breaker } from '../common/breaker';
import { DEPENDENCY_TIMING } from '../common/resilient-cache';

/**
 * The metadata database's one circuit breaker: the key, token and limit caches share it, and
 * every /readyz probe feeds it, so one failure pauses every reload and one success resumes them.
 */
@Injectable()
export class DatabaseBreaker extends Breaker {
  constructor() {
    super(DEPENDENCY_TIMING);
  }
}
