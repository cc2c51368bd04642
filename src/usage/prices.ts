import { readFileSync } from 'node:fs';
import { type AppConfig, ConfigError } from '../config/app-config';
import { builtinDataPath, readOverrideFile } from '../config/data-file';
import { parseConfigYaml } from '../config/yaml';

/** USD per 1M tokens for one provider's model (or every model id starting with `model`). */
export interface PriceEntry {
  provider: string;
  model: string;
  match: 'exact' | 'prefix';
  input: number;
  output: number;
}

const FIELDS = new Set(['model', 'match', 'input', 'output']);
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `dir` lets tests resolve the path as it would be from dist/usage. */
export function pricesPath(dir = __dirname): string {
  return builtinDataPath(dir, 'usage', 'prices.yaml');
}

/** A map of provider id → list of `{model, match?, input, output}`; every problem is named. */
export function parsePriceYaml(text: string, source: string): PriceEntry[] {
  const doc = parseConfigYaml(text, source);
  if (doc === null || doc === undefined) return [];
  if (!isObject(doc))
    throw new ConfigError(`${source}: expected a map of provider id to a list of prices`);
  const problems: string[] = [];
  const entries: PriceEntry[] = [];
  for (const [provider, list] of Object.entries(doc)) {
    if (!Array.isArray(list)) {
      problems.push(`${provider}: expected a list of {model, input, output}`);
      continue;
    }
    list.forEach((raw: unknown, i) => {
      const at = `${provider}[${i}]`;
      if (!isObject(raw)) return problems.push(`${at}: expected {model, input, output}`);
      const unknown = Object.keys(raw).filter((k) => !FIELDS.has(k));
      if (unknown.length) problems.push(`${at}: unknown field(s) ${unknown.join(', ')}`);
      const { model, match = 'exact', input, output } = raw;
      if (typeof model !== 'string' || !model.trim())
        return problems.push(`${at}: model must be a non-empty string`);
      if (match !== 'exact' && match !== 'prefix')
        problems.push(`${at} (${model}): match must be "exact" or "prefix"`);
      for (const [name, v] of [
        ['input', input],
        ['output', output],
      ] as const)
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
          problems.push(`${at} (${model}): ${name} must be a number ≥ 0 (USD per 1M tokens)`);
      entries.push({
        provider: provider.toLowerCase(),
        model: model.trim().toLowerCase(),
        match: match === 'prefix' ? 'prefix' : 'exact',
        input: Number(input),
        output: Number(output),
      });
    });
  }
  if (problems.length)
    throw new ConfigError(`Invalid price table ${source}:\n  - ${problems.join('\n  - ')}`);
  return entries;
}

/** Token prices by (provider, model). Unknown models have no price: cost null, never 0. */
export class PriceTable {
  private readonly exact = new Map<string, PriceEntry>();
  /** Per provider, longest prefix first, so the most specific entry wins. */
  private readonly prefixes = new Map<string, PriceEntry[]>();

  /**
   * @param fallbackUsdPerMTok PRICE_FALLBACK_USD_PER_MTOK: what budgets charge for a model
   * without a price (input and output alike); unset, such a model cannot run under a budget.
   */
  constructor(
    entries: Iterable<PriceEntry>,
    readonly fallbackUsdPerMTok?: number,
  ) {
    for (const e of entries) {
      this.exact.set(`${e.provider}\u0000${e.model}`, e);
      if (e.match !== 'prefix') continue;
      const list = this.prefixes.get(e.provider) ?? [];
      list.push(e);
      list.sort((a, b) => b.model.length - a.model.length);
      this.prefixes.set(e.provider, list);
    }
  }

  find(provider: string, model: string | null): PriceEntry | undefined {
    if (!model) return undefined;
    const p = provider.toLowerCase();
    const m = model.toLowerCase();
    return (
      this.exact.get(`${p}\u0000${m}`) ?? this.prefixes.get(p)?.find((e) => m.startsWith(e.model))
    );
  }

  /**
   * USD for these token counts, or null when the model has no price. Zero tokens cost 0 even
   * for an unknown model: a failed request or a model list spent nothing to estimate.
   */
  cost(
    provider: string,
    model: string | null,
    promptTokens: number,
    completionTokens: number,
  ): number | null {
    if (promptTokens === 0 && completionTokens === 0) return 0;
    const price = this.find(provider, model);
    if (!price) return null;
    return (promptTokens * price.input + completionTokens * price.output) / 1_000_000;
  }
}

/**
 * The cost a budget counts: the price table's, else the operator's fallback price, else null
 * (the model cannot be charged, so a budget must refuse it rather than count it as free).
 */
export function budgetCost(
  prices: PriceTable,
  provider: string,
  model: string | null,
  promptTokens: number,
  completionTokens: number,
): number | null {
  const cost = prices.cost(provider, model, promptTokens, completionTokens);
  if (cost !== null || prices.fallbackUsdPerMTok === undefined) return cost;
  return ((promptTokens + completionTokens) * prices.fallbackUsdPerMTok) / 1_000_000;
}

/** The built-in table, then PRICES_FILE, whose entries replace same (provider, model) ones. */
export function loadPrices(
  config: Pick<AppConfig, 'pricesFile' | 'priceFallbackUsdPerMTok'>,
  builtin = pricesPath(),
): PriceTable {
  const merged = new Map<string, PriceEntry>();
  const add = (list: PriceEntry[]) => {
    for (const e of list) merged.set(`${e.provider}\u0000${e.model}`, e);
  };
  add(parsePriceYaml(readFileSync(builtin, 'utf8'), 'prices.yaml'));
  const override = readOverrideFile('PRICES_FILE', config.pricesFile);
  if (override) add(parsePriceYaml(override.text, override.source));
  return new PriceTable(merged.values(), config.priceFallbackUsdPerMTok);
}
