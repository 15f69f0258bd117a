/**
 * The analysis layer's rule parsers (`--fail-on`, `--threshold`) raise their
 * own RuleSyntaxError; on the command line a bad rule is a usage error.
 */
import { parseThresholds, type Thresholds } from '../../analysis/thresholds.js';
import { parseFailOn, type Gate } from '../../analysis/gates.js';
import { RuleSyntaxError } from '../../analysis/rule-error.js';
import { UsageError } from '../../errors.js';

function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof RuleSyntaxError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

export function parseGates(values: readonly string[]): Gate[] {
  return values.length > 0 ? asUsage(() => parseFailOn(values)) : [];
}

export function parseThresholdRules(values: readonly string[]): Thresholds {
  return asUsage(() => parseThresholds(values));
}
