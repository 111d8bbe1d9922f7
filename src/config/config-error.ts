import { GatewayError } from '../errors.js';

/** One bad variable: `variable` is the environment name (`PORT`, `JWT_SECRET_FILE`). */
export interface ConfigProblem {
  readonly variable: string;
  readonly message: string;
}

/**
 * The environment is invalid. The message has one line per bad variable, for example
 * `PORT: must be an integer between 0 and 65535 (got "abc")`, so an operator fixes all of them
 * in one go; `problems` holds the same, structured.
 */
export class ConfigError extends GatewayError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super('GW_ERR_CONFIG', problems.map((problem) => `${problem.variable}: ${problem.message}`).join('\n'));
    this.problems = problems;
  }
}
