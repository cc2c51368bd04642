import { parse } from 'yaml';
import { ConfigError } from './app-config';

/** Parses a configuration YAML file's text; a syntax error stops start-up naming the source. */
export function parseConfigYaml(text: string, source: string): unknown {
  try {
    return parse(text) as unknown;
  } catch (err) {
    throw new ConfigError(`${source}: invalid YAML: ${(err as Error).message}`);
  }
}
