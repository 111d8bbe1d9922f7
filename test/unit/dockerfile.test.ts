/**
 * The Dockerfile, checked statically: no Docker engine runs in CI, and hadolint does not install
 * from npm or apt. The test parses the instructions and checks what the production-readiness
 * issue asks of the image: multi-stage, `npm ci`, production dependencies only, a non-root user,
 * a HEALTHCHECK, node as PID 1 (exec form), and a `.dockerignore` that keeps the context small.
 * It also checks what would break a build or a start: every file copied exists and is not
 * ignored, the command runs the file `npm run build` produces, and every package the source
 * imports at run time is a production dependency. The Compose file of deploy/ is checked here too.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_VARIABLES } from '../../src/config/env-schema.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** Instructions in order: comments dropped, `\` continuations joined, keywords upper-cased. */
function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending !== '' && line.startsWith('#')) return;
    if (pending === '') startLine = index + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const match = /^(\S+)\s*(.*)$/s.exec(full);
    if (match?.[1])
      instructions.push({ keyword: match[1].toUpperCase(), args: match[2] ?? '', line: startLine });
  });
  return instructions;
}

function stagesOf(instructions: readonly Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const match = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!match?.[1]) throw new Error(`cannot read FROM on line ${instruction.line}`);
      stages.push({ image: match[1], name: match[2], instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** Minimal .dockerignore matching: `name`, `dir`, `*.ext` and `prefix.*` at the context root. */
function isIgnored(path: string, patterns: readonly string[]): boolean {
  const first = path.split('/')[0] ?? path;
  return patterns.some((pattern) => {
    const regex = new RegExp(
      `^${pattern
        .replace(/\/$/, '')
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')}$`,
    );
    return regex.test(path) || regex.test(first);
  });
}

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const instructions = parseDockerfile(dockerfile);
const stages = stagesOf(instructions);
const finalStage = stages.at(-1) as Stage;
const dockerignorePath = join(ROOT, '.dockerignore');
const ignorePatterns = existsSync(dockerignorePath)
  ? readFileSync(dockerignorePath, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
  : [];
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  main: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function only(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}

function execForm(instruction: Instruction | undefined): string[] {
  expect(instruction, 'instruction missing').toBeDefined();
  const args = (instruction as Instruction).args.replace(/^(--\S+\s+)*(CMD\s+)?/, '');
  expect(args.startsWith('['), `${instruction?.keyword} must use the exec (JSON array) form`).toBe(true);
  return JSON.parse(args) as string[];
}

describe('Dockerfile', () => {
  it('is multi-stage: named build stages, the runtime stage last', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages.slice(0, -1)) expect(stage.name, `stage FROM ${stage.image}`).toBeDefined();
    const names = stages.map((stage) => stage.name);
    expect(new Set(names).size).toBe(names.length);
    // Every stage starts from the same pinned Node image.
    for (const stage of stages) expect(stage.image).toMatch(/node|NODE_IMAGE/);
    const nodeImage = /ARG NODE_IMAGE=(\S+)/.exec(dockerfile)?.[1];
    expect(nodeImage).toMatch(/^node:\d+[.\w-]*(@sha256:[0-9a-f]{64})?$/);
  });

  it('runs the Node.js major that CI tests on and package.json requires', () => {
    const imageMajor = /ARG NODE_IMAGE=node:(\d+)/.exec(dockerfile)?.[1];
    const ciMajor = /^NODE_MAJOR=(\d+)$/m.exec(readFileSync(join(ROOT, '.ci', 'run'), 'utf8'))?.[1];
    const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    // Node.js 20 reached end of life in April 2026; 24 is the current LTS line.
    expect(Number(imageMajor)).toBeGreaterThanOrEqual(24);
    expect(ciMajor).toBe(imageMajor);
    expect(packageJson.engines.node).toBe(`>=${imageMajor}`);
  });

  it('installs with npm ci, and the runtime gets production dependencies only', () => {
    const runs = instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.some((run) => /\bnpm ci\b/.test(run))).toBe(true);
    expect(runs.some((run) => /\bnpm install\b/.test(run))).toBe(false);
    // Where the runtime's node_modules come from, that stage runs `npm ci --omit=dev`.
    const modulesCopy = only(finalStage, 'COPY').find((copy) => /node_modules/.test(copy.args));
    const source = /--from=(\S+)/.exec(modulesCopy?.args ?? '')?.[1];
    expect(source, 'the runtime copies node_modules from a stage').toBeDefined();
    const depsStage = stages.find((stage) => stage.name === source) as Stage;
    expect(only(depsStage, 'RUN').some((run) => /\bnpm ci\b.*--omit=dev/.test(run.args))).toBe(true);
    // The runtime never installs anything itself, nor copies the whole context.
    expect(only(finalStage, 'RUN')).toEqual([]);
    for (const copy of only(finalStage, 'COPY')) expect(copy.args).not.toMatch(/^\.\s|\s\.\s+\.\/?$/);
    expect(dockerfile).toMatch(/ENV NODE_ENV=production/);
  });

  it('runs as a non-root user, set by number, after everything is copied', () => {
    const users = only(finalStage, 'USER');
    expect(users).toHaveLength(1);
    const user = users[0] as Instruction;
    expect(user.args).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
    const lastCopy = only(finalStage, 'COPY').at(-1) as Instruction;
    expect(user.line).toBeGreaterThan(lastCopy.line);
    // The copied files stay root's: the process cannot rewrite its own code.
    for (const copy of only(finalStage, 'COPY')) expect(copy.args).not.toMatch(/--chown/);
  });

  it('has a HEALTHCHECK on /healthz in exec form', () => {
    const checks = only(finalStage, 'HEALTHCHECK');
    expect(checks).toHaveLength(1);
    const check = checks[0] as Instruction;
    expect(check.args).toMatch(/--interval=\d+s/);
    expect(check.args).toMatch(/--timeout=\d+s/);
    const command = execForm(check);
    expect(command[0]).toBe('node');
    expect(command.join(' ')).toContain('/healthz');
  });

  it('lets signals reach node: node is PID 1 through an exec-form CMD, running package.json main', () => {
    const entrypoints = only(finalStage, 'ENTRYPOINT');
    const cmd = execForm(only(finalStage, 'CMD').at(-1));
    if (entrypoints.length > 0) {
      // Only an init that forwards signals may stand in front of node.
      expect(execForm(entrypoints[0])[0]).toMatch(/tini|dumb-init/);
    } else {
      expect(cmd[0]).toBe('node');
    }
    expect(cmd).toContain(packageJson.main);
    expect(cmd.join(' ')).not.toMatch(/\bnpm\b|\bsh\b|\bbash\b/);
    expect(only(finalStage, 'STOPSIGNAL').map((i) => i.args)).not.toContain('SIGKILL');
  });

  it('builds with the same command as package.json, into the file the runtime starts', () => {
    const buildStage = stages[0] as Stage;
    expect(only(buildStage, 'RUN').some((run) => run.args.includes('npm run build'))).toBe(true);
    // tsc, then the step that copies the Redis scripts (.lua) beside the compiled modules and
    // checks that each loads (src/redis/ship-scripts-main.ts; build-ships-scripts.test.ts runs it).
    expect(packageJson.scripts['build']).toMatch(
      /^tsc -p tsconfig\.build\.json && node dist\/src\/redis\/ship-scripts-main\.js$/,
    );
    const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: { outDir: string; rootDir: string };
    };
    // outDir dist + rootDir . puts src/main.ts at dist/src/main.js: the runtime copies dist/src.
    expect(tsconfig.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' });
    expect(packageJson.main).toBe('dist/src/main.js');
    expect(dockerfile).toMatch(/COPY --from=build \/app\/dist\/src \.\/dist\/src/);
  });

  it('ships the non-TypeScript assets the code reads at run time', () => {
    // console-router.ts looks for ../../../src/console/static from dist/src/console.
    expect(existsSync(join(ROOT, 'src', 'console', 'static', 'index.html'))).toBe(true);
    expect(dockerfile).toMatch(/COPY --from=build \/app\/src\/console\/static \.\/src\/console\/static/);
    const buildStage = stages[0] as Stage;
    expect(only(buildStage, 'COPY').some((copy) => /^src \.\/src$/.test(copy.args))).toBe(true);
  });

  it('exposes the HTTP port (and the metrics port the Helm chart uses)', () => {
    const ports = only(finalStage, 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
    expect(ports).toContain('3000');
    expect(ports).toContain('9090');
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const contextCopies = instructions
      .filter((i) => i.keyword === 'COPY' && !/--from=/.test(i.args))
      .flatMap((i) =>
        i.args
          .split(/\s+/)
          .filter((part) => !part.startsWith('--'))
          .slice(0, -1),
      );
    expect(contextCopies.length).toBeGreaterThan(0);
    for (const path of contextCopies) {
      expect(existsSync(join(ROOT, path)), `${path} exists`).toBe(true);
      expect(isIgnored(path, ignorePatterns), `${path} is not in .dockerignore`).toBe(false);
    }
  });

  it('imports at run time only packages that are production dependencies', () => {
    const sources: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts')) sources.push(path);
      }
    };
    walk(join(ROOT, 'src'));
    const builtins = new Set(builtinModules);
    const imported = new Set<string>();
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      // `import type` is erased by tsc; everything else is loaded at run time.
      for (const match of text.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?from\s+'([^'.][^']*)'/gms)) {
        const specifier = match[1] as string;
        const name = specifier.startsWith('@')
          ? specifier.split('/').slice(0, 2).join('/')
          : (specifier.split('/')[0] as string);
        if (specifier.startsWith('node:') || builtins.has(name)) continue;
        imported.add(name);
      }
    }
    expect(imported.size).toBeGreaterThan(5);
    for (const name of imported) {
      expect(Object.keys(packageJson.dependencies), `${name} must be in dependencies`).toContain(name);
    }
  });
});

describe('.dockerignore', () => {
  it('exists and keeps out what must not reach the build context', () => {
    expect(existsSync(dockerignorePath)).toBe(true);
    for (const path of [
      'node_modules',
      '.git',
      'dist',
      '.env',
      '.env.local',
      'test',
      'sim',
      'helm',
      'deploy',
      'key.pem',
    ]) {
      expect(isIgnored(path, ignorePatterns), `${path} should be ignored`).toBe(true);
    }
    for (const path of ['package.json', 'package-lock.json', 'src', 'tsconfig.json', 'tsconfig.build.json']) {
      expect(isIgnored(path, ignorePatterns), `${path} must reach the build`).toBe(false);
    }
  });
});

describe('deploy/docker-compose.yml (local trial with a real Rocket.Chat)', () => {
  const compose = parse(readFileSync(join(ROOT, 'deploy', 'docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as {
    services: Record<string, Record<string, unknown>>;
  };
  const services = compose.services;
  const envOf = (name: string): Record<string, string> =>
    (services[name]?.['environment'] ?? {}) as Record<string, string>;

  it('runs Rocket.Chat on a MongoDB replica set, Redis and both gateway roles', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['gateway-api', 'gateway-worker', 'mongodb', 'redis', 'rocketchat'].sort(),
    );
    expect(String(services['rocketchat']?.['image'])).toMatch(/^rocketchat\/rocket\.chat:/);
    expect(envOf('rocketchat')['MONGO_URL']).toMatch(/^mongodb:\/\/mongodb:27017\/\w+\?replicaSet=rs0$/);
    expect(services['mongodb']?.['command']).toEqual(['mongod', '--replSet', 'rs0', '--bind_ip_all']);
    const mongoCheck =
      (services['mongodb']?.['healthcheck'] as { test: string[] } | undefined)?.test.join(' ') ?? '';
    expect(mongoCheck).toContain("rs.initiate({ _id: 'rs0'");
    expect(mongoCheck).toContain('isWritablePrimary');
  });

  it('runs Redis with maxmemory-policy noeviction', () => {
    const command = services['redis']?.['command'] as string[];
    expect(command.join(' ')).toMatch(/--maxmemory-policy noeviction/);
  });

  it('builds the gateway from this Dockerfile and sets only variables it reads', () => {
    const known = new Set<string>(ENV_VARIABLES);
    for (const [name, role] of [
      ['gateway-api', 'api'],
      ['gateway-worker', 'worker'],
    ] as const) {
      const service = services[name] as Record<string, unknown>;
      expect(service['build']).toEqual({ context: '..', dockerfile: 'Dockerfile' });
      const env = envOf(name);
      expect(env['GATEWAY_ROLE']).toBe(role);
      for (const key of Object.keys(env))
        expect(known.has(key), `${key} is not a gateway variable`).toBe(true);
      expect(env['REDIS_URL']).toBe('redis://redis:6379');
      expect(env['ROCKETCHAT_URL']).toBe('http://rocketchat:3000');
      // From deploy/.env; the gateway itself refuses to start in production without them.
      expect(env['JWT_SECRET']).toMatch(/^\$\{JWT_SECRET:-\}$/);
      expect(env['GATEWAY_ENCRYPTION_KEY']).toMatch(/^\$\{GATEWAY_ENCRYPTION_KEY:-\}$/);
      expect(env['NODE_ENV']).toBe('production');
      // Compose's SIGKILL comes after the gateway's own drain deadline.
      const graceSeconds = Number(env['SHUTDOWN_GRACE_MS']) / 1000;
      expect(Number.parseInt(String(service['stop_grace_period']), 10)).toBeGreaterThan(graceSeconds);
      expect(service['read_only']).toBe(true);
      expect(service['cap_drop']).toEqual(['ALL']);
      expect(service['depends_on']).toMatchObject({
        redis: { condition: 'service_healthy' },
        rocketchat: { condition: 'service_healthy' },
      });
    }
    const example = readFileSync(join(ROOT, 'deploy', '.env.example'), 'utf8');
    expect(example).toMatch(/^JWT_SECRET=$/m);
    expect(example).toMatch(/^GATEWAY_ENCRYPTION_KEY=$/m);
    expect(readFileSync(join(ROOT, 'deploy', '.gitignore'), 'utf8')).toMatch(/^\.env$/m);
  });
});
