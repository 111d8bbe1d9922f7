/**
 * The raw input of the schema: each variable from `NAME`, or from the file `NAME_FILE` points at
 * (Docker and Kubernetes mount secrets as files; the `_FILE` convention is the official images').
 */
import { readFileSync } from 'node:fs';
import type { ConfigProblems } from './config-problems.js';
import { ENV_VARIABLES, type EnvVariable } from './env-schema.js';

export type EnvInput = Partial<Record<EnvVariable, string>>;

export function readEnvInput(
  env: Readonly<Record<string, string | undefined>>,
  problems: ConfigProblems,
): EnvInput {
  const input: EnvInput = {};
  for (const variable of ENV_VARIABLES) {
    const value = present(env[variable]);
    const path = present(env[`${variable}_FILE`]);
    if (value !== undefined && path !== undefined) {
      problems.add(variable, `set either ${variable} or ${variable}_FILE, not both`);
    } else if (path !== undefined) {
      input[variable] = readValueFile(variable, path, problems);
    } else if (value !== undefined) {
      input[variable] = value;
    }
  }
  return input;
}

/** An empty value counts as unset, as `KEY=` in a compose file or an empty Helm value means. */
function present(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function readValueFile(variable: EnvVariable, path: string, problems: ConfigProblems): string | undefined {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    problems.add(variable, `cannot read ${JSON.stringify(path)} (${reason})`, { viaFile: true });
    return undefined;
  }
  // `echo secret > file` and most editors end the file with a newline that is not part of the value.
  const value = content.replace(/(\r?\n)+$/, '');
  if (value === '') {
    problems.add(variable, `${JSON.stringify(path)} is empty`, { viaFile: true });
    return undefined;
  }
  return value;
}
