import { Inject, Injectable } from '@nestjs/common';
import type { Caller } from '../auth/caller';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { KeyCandidate } from '../keys/key-resolver';
import { type Estimate, type Exceeded, LimitsService } from '../limits/limits.service';
import { budgetCost, PriceTable } from '../usage/prices';
import type { Exchange } from './exchange';
import type { ProxyTarget } from './proxy-target';

/** The body fields that cap a response's length, by API (chat, responses, legacy completions). */
const MAX_FIELDS = ['max_completion_tokens', 'max_tokens', 'max_output_tokens'] as const;
/** The same, one level down: Bedrock Converse's inferenceConfig, Gemini's generationConfig. */
const NESTED_MAX_FIELDS = [
  ['inferenceConfig', 'maxTokens'],
  ['generationConfig', 'maxOutputTokens'],
] as const;
const GENERATES: ReadonlySet<string> = new Set(['chat', 'text_completion', 'generate_content']);
/** A rough upper estimate of text tokens: no tokenizer counts fewer than 1 per 4 bytes of JSON. */
const BYTES_PER_TOKEN = 4;

/**
 * Admission against the proxy's own limits: the caller's before any key is chosen, each key's
 * before it is tried. Where a token or budget limit applies, the request reserves what it may
 * use at most (its prompt, estimated from the body, plus its output cap, or
 * LIMIT_RESERVE_OUTPUT_TOKENS when it names none); the usage event settles it.
 */
@Injectable()
export class Admission {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly limits: LimitsService,
    private readonly prices: PriceTable,
  ) {}

  async admitCaller(ex: Exchange, caller: Caller, target: ProxyTarget): Promise<void> {
    const estimate = (await this.limits.countsTokens(caller.sub))
      ? this.estimate(ex, target)
      : undefined;
    const reservation = await this.limits.admitUser(caller.sub, estimate);
    if (reservation) ex.reservations.push({ reservation });
  }

  /** Undefined when the key may be tried; else the key's spent limit (it is skipped). */
  async admitKey(
    ex: Exchange,
    candidate: KeyCandidate,
    target: ProxyTarget,
  ): Promise<Exceeded | undefined> {
    if (!candidate.keyId || !candidate.limits) return undefined;
    const r = await this.limits.admitKey(candidate, this.estimate(ex, target));
    if (r.reservation) ex.reservations.push({ reservation: r.reservation, keyId: candidate.keyId });
    return r.over;
  }

  /** What the request may use at most; computed once per exchange, and only when needed. */
  private estimate(ex: Exchange, target: ProxyTarget): Estimate {
    if (ex.estimate) return ex.estimate;
    const body = target.body && target.json ? parseObject(target.body) : undefined;
    const cap = [
      ...MAX_FIELDS.map((f) => body?.[f]),
      ...NESTED_MAX_FIELDS.map(([outer, f]) => asObject(body?.[outer])?.[f]),
    ].find(isCount);
    const prompt = target.body ? Math.ceil(target.body.length / BYTES_PER_TOKEN) : 0;
    const output = cap ?? (GENERATES.has(target.operation) ? this.config.reserveOutputTokens : 0);
    const model = target.model;
    ex.estimate = {
      tokens: prompt + output,
      costUsd: budgetCost(this.prices, target.provider.id, model ?? null, prompt, output),
      model,
    };
    return ex.estimate;
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

const asObject = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

function parseObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    return asObject(JSON.parse(body.toString('utf8')));
  } catch {
    return undefined;
  }
}
