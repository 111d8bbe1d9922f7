import { ConfigError, type ConfigProblem } from './config-error.js';
import { ENV_VARIABLES, type EnvVariable } from './env-schema.js';

/**
 * Collects problems while the configuration is read, so every one is reported at once. Several
 * problems with one variable become one line.
 */
export class ConfigProblems {
  readonly #messages = new Map<string, string[]>();
  readonly #failed = new Set<EnvVariable>();

  /** Records a problem with `variable` (or with `${variable}_FILE` when `viaFile`). */
  add(variable: EnvVariable, message: string, options: { viaFile?: boolean } = {}): void {
    this.#failed.add(variable);
    const name = options.viaFile ? `${variable}_FILE` : variable;
    const messages = this.#messages.get(name);
    if (messages) messages.push(message);
    else this.#messages.set(name, [message]);
  }

  /** Whether any of `variables` already has a problem (rules across variables then stay quiet). */
  hasAny(...variables: EnvVariable[]): boolean {
    return variables.some((variable) => this.#failed.has(variable));
  }

  throwIfAny(): void {
    if (this.#messages.size === 0) return;
    // In schema order, so the lines read like the README's configuration table.
    const rank = (name: string): number => ENV_VARIABLES.indexOf(name.replace(/_FILE$/, '') as EnvVariable);
    const problems: ConfigProblem[] = [...this.#messages]
      .sort(([a], [b]) => rank(a) - rank(b))
      .map(([variable, messages]) => ({ variable, message: messages.join('; ') }));
    throw new ConfigError(problems);
  }
}
