/**
 * A --fail-on or --threshold rule that cannot be read. The analysis layer
 * knows nothing of exit codes: the commands turn this into a usage error.
 */
export class RuleSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleSyntaxError';
  }
}
