/**
 * The Helm chart (helm/rocketchat-gateway), checked without a `helm` binary (none installs from
 * apt or npm here). Chart.yaml and values.yaml are parsed with a YAML parser. The templates are
 * "rendered" in their plain parts: comments and control lines (`if`, `with`, `range`, `end`)
 * dropped, block helpers from _helpers.tpl inlined at their `nindent`, every other action
 * replaced by a placeholder; what remains must be valid YAML, and its structure is checked.
 * Every `.Values` path a template uses must exist in values.yaml, every variable the chart sets
 * must be one the gateway reads (src/config), and every value must be documented. The plain
 * kustomize base in deploy/k8s is checked against the chart's rendering.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isMap, isScalar, type Node, parse, parseAllDocuments, parseDocument, type YAMLMap } from 'yaml';
import { ENV_VARIABLES } from '../../src/config/env-schema.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHART = join(ROOT, 'helm', 'rocketchat-gateway');
const TEMPLATES = join(CHART, 'templates');

type Json = Record<string, unknown>;

const read = (path: string): string => readFileSync(path, 'utf8');
const chart = parse(read(join(CHART, 'Chart.yaml'))) as Json;
const valuesText = read(join(CHART, 'values.yaml'));
const values = parse(valuesText) as Json;
const helpersText = read(join(TEMPLATES, '_helpers.tpl'));
const templateFiles = readdirSync(TEMPLATES).filter((file) => file.endsWith('.yaml'));
const templates = new Map(templateFiles.map((file) => [file, read(join(TEMPLATES, file))]));
const packageJson = JSON.parse(read(join(ROOT, 'package.json'))) as { version: string };

/** Every action `{{ ... }}` with its position. */
const ACTION = /\{\{-?\s*([\s\S]*?)\s*-?\}\}/g;
const BLOCK_OPEN = /^(if|with|range|define|block)\b/;

/** The bodies of `{{- define "name" -}} ... {{- end -}}` blocks, nested blocks included. */
function parseDefines(text: string): Map<string, string> {
  const defines = new Map<string, string>();
  let current: { name: string; start: number; depth: number } | undefined;
  for (const match of text.matchAll(ACTION)) {
    const action = match[1] ?? '';
    if (action.startsWith('/*')) continue;
    if (!current) {
      const define = /^define\s+"([^"]+)"/.exec(action);
      if (define?.[1]) current = { name: define[1], start: (match.index ?? 0) + match[0].length, depth: 1 };
      continue;
    }
    if (BLOCK_OPEN.test(action)) current.depth += 1;
    else if (action === 'end') {
      current.depth -= 1;
      if (current.depth === 0) {
        defines.set(current.name, text.slice(current.start, match.index).replace(/^\n/, ''));
        current = undefined;
      }
    }
  }
  return defines;
}

const defines = parseDefines(helpersText);
let placeholderCount = 0;

/**
 * The plain parts of a template as YAML text: comments and control lines dropped, block helpers
 * inlined where they are included with `nindent`, other actions replaced by unique placeholders.
 */
function renderPlain(text: string): string {
  const withoutComments = text.replace(/\{\{-?\s*\/\*[\s\S]*?\*\/\s*-?\}\}/g, '');
  const out: string[] = [];
  for (const line of withoutComments.split('\n')) {
    const only = /^\s*\{\{-?\s*([\s\S]*?)\s*-?\}\}\s*$/.exec(line);
    if (only) {
      const action = only[1] ?? '';
      const include = /^include\s+"([^"]+)"\s+.*\|\s*nindent\s+(\d+)$/.exec(action);
      if (include?.[1]) {
        const body = defines.get(include[1]);
        if (body === undefined) throw new Error(`include of undefined template ${include[1]}`);
        const indent = ' '.repeat(Number(include[2]));
        for (const bodyLine of renderPlain(body).split('\n'))
          if (bodyLine.trim()) out.push(indent + bodyLine);
        continue;
      }
      // Control flow and `toYaml ... | nindent`: the keys around them stay, their values do not.
      if (/^(if|else|with|range|end|define|toYaml)\b/.test(action) || action.startsWith('$')) continue;
    }
    out.push(line.replace(ACTION, () => `__TPL_${++placeholderCount}__`));
  }
  return out.join('\n');
}

/** The manifests of one template file (plain parts), by document. */
function manifestsOf(file: string): Json[] {
  const text = renderPlain(templates.get(file) ?? '');
  const docs = parseAllDocuments(text);
  const manifests: Json[] = [];
  for (const doc of docs) {
    expect(
      doc.errors.map((e) => e.message),
      `${file}:\n${text}`,
    ).toEqual([]);
    const value = doc.toJS() as Json | null;
    if (value) manifests.push(value);
  }
  return manifests;
}

const manifests: Json[] = templateFiles.flatMap((file) => manifestsOf(file).map((m) => ({ file, ...m })));

function find(kind: string, nameSuffix: string): Json {
  const found = manifests.find(
    (m) => m['kind'] === kind && String((m['metadata'] as Json)['name']).endsWith(nameSuffix),
  );
  if (!found) throw new Error(`no ${kind} named *${nameSuffix}`);
  return found;
}

function get(object: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Json | undefined)?.[key], object);
}

function container(deployment: Json): Json {
  const containers = get(deployment, 'spec.template.spec.containers') as Json[];
  expect(containers).toHaveLength(1);
  return containers[0] as Json;
}

const envNames = (c: Json): string[] => (c['env'] as Json[]).map((e) => e['name'] as string);

describe('Chart.yaml', () => {
  it('is a v2 application chart whose appVersion is the gateway version', () => {
    expect(chart).toMatchObject({ apiVersion: 'v2', type: 'application', name: 'rocketchat-gateway' });
    expect(chart['version']).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
    expect(chart['appVersion']).toBe(packageJson.version);
    expect(String(chart['description']).length).toBeGreaterThan(20);
  });
});

describe('templates', () => {
  it('balance their blocks and include only defined helpers', () => {
    for (const [file, text] of [...templates, ['_helpers.tpl', helpersText] as const]) {
      let depth = 0;
      for (const match of text.matchAll(ACTION)) {
        const action = match[1] ?? '';
        if (action.startsWith('/*')) continue;
        if (BLOCK_OPEN.test(action)) depth += 1;
        else if (action === 'end') depth -= 1;
        expect(depth, `${file}: 'end' without a block`).toBeGreaterThanOrEqual(0);
      }
      expect(depth, `${file}: unclosed block`).toBe(0);
      expect(text.split('{{').length, `${file}: unbalanced braces`).toBe(text.split('}}').length);
      for (const include of text.matchAll(/include\s+"([^"]+)"/g)) {
        expect(defines.has(include[1] as string), `${file}: include "${include[1]}"`).toBe(true);
      }
    }
  });

  it('use only values that values.yaml defines', () => {
    const used = new Set<string>();
    for (const text of [...templates.values(), helpersText, read(join(TEMPLATES, 'NOTES.txt'))]) {
      for (const match of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g))
        used.add(match[1]?.slice(1) ?? '');
    }
    expect(used.size).toBeGreaterThan(40);
    for (const path of used) {
      const segments = path.split('.');
      let node: unknown = values;
      for (const segment of segments) {
        expect(
          node !== null && typeof node === 'object' && segment in (node as Json),
          `.Values.${path}`,
        ).toBe(true);
        node = (node as Json)[segment];
      }
    }
  });

  it('render to valid YAML in their plain parts, with every resource the issue asks for', () => {
    const kinds = manifests.map(
      (m) => `${m['kind']}/${String((m['metadata'] as Json)['name']).replace(/^__TPL_\d+__/, '')}`,
    );
    expect(kinds.sort()).toEqual(
      [
        'ConfigMap/',
        'Deployment/-api',
        'Deployment/-worker',
        'HorizontalPodAutoscaler/-api',
        'HorizontalPodAutoscaler/-worker',
        'Ingress/',
        'NetworkPolicy/-api',
        'NetworkPolicy/-worker',
        'PodDisruptionBudget/-api',
        'PodDisruptionBudget/-worker',
        'Secret/',
        'Service/-api',
        'Service/-worker',
        'ServiceAccount/',
        'ServiceMonitor/',
      ].sort(),
    );
  });
});

describe('Deployments', () => {
  const roles = ['api', 'worker'] as const;

  it.each(roles)('%s: runs the image with that GATEWAY_ROLE and its own selector', (role) => {
    const deployment = find('Deployment', `-${role}`);
    const c = container(deployment);
    const roleEnv = (c['env'] as Json[]).find((e) => e['name'] === 'GATEWAY_ROLE');
    expect(roleEnv).toEqual({ name: 'GATEWAY_ROLE', value: role });
    expect(get(deployment, 'spec.selector.matchLabels')).toMatchObject({
      'app.kubernetes.io/component': role,
    });
    expect(get(deployment, 'spec.template.metadata.labels')).toMatchObject({
      'app.kubernetes.io/component': role,
    });
    expect(get(deployment, 'spec.strategy.rollingUpdate')).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    // Replicas come from values unless the HPA owns them.
    expect(templates.get(`deployment-${role}.yaml`)).toMatch(
      new RegExp(
        `if not \\.Values\\.${role}\\.autoscaling\\.enabled \\}\\}\\n\\s+replicas: \\{\\{ \\.Values\\.${role}\\.replicaCount \\}\\}`,
      ),
    );
    expect(templates.get(`deployment-${role}.yaml`)).toContain(`toYaml .Values.${role}.resources`);
  });

  it.each(roles)(
    '%s: probes /healthz (startup, liveness) and /readyz (readiness) on the HTTP port',
    (role) => {
      const c = container(find('Deployment', `-${role}`));
      expect(get(c, 'startupProbe.httpGet')).toEqual({ path: '/healthz', port: 'http' });
      expect(get(c, 'livenessProbe.httpGet')).toEqual({ path: '/healthz', port: 'http' });
      expect(get(c, 'readinessProbe.httpGet')).toEqual({ path: '/readyz', port: 'http' });
      expect(c['ports']).toEqual([
        { name: 'http', containerPort: 3000, protocol: 'TCP' },
        { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
      ]);
    },
  );

  it.each(roles)('%s: runs as non-root, read-only root filesystem, no capabilities', (role) => {
    const deployment = find('Deployment', `-${role}`);
    const c = container(deployment);
    expect(c['securityContext']).toEqual({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(get(deployment, 'spec.template.spec.securityContext')).toMatchObject({ runAsNonRoot: true });
    expect(get(deployment, 'spec.template.spec.automountServiceAccountToken')).toBe(false);
    // A writable /tmp despite the read-only root.
    expect(c['volumeMounts']).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(get(deployment, 'spec.template.spec.volumes')).toEqual([
      { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    ]);
    // The user the pods run as is the image's (Dockerfile USER 1000:1000).
    expect(values['podSecurityContext']).toMatchObject({ runAsUser: 1000, runAsGroup: 1000 });
    expect(read(join(ROOT, 'Dockerfile'))).toMatch(/^USER 1000:1000$/m);
  });

  it.each(roles)('%s: gets its secrets from the Secret and names itself in leases', (role) => {
    const c = container(find('Deployment', `-${role}`));
    const env = c['env'] as Json[];
    for (const name of ['JWT_SECRET', 'GATEWAY_ENCRYPTION_KEY', 'REDIS_URL']) {
      const entry = env.find((e) => e['name'] === name);
      expect(get(entry, 'valueFrom.secretKeyRef'), name).toBeDefined();
    }
    expect(env.find((e) => e['name'] === 'WORKER_ID')).toEqual({
      name: 'WORKER_ID',
      valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
    });
    expect((c['envFrom'] as Json[])[0]).toHaveProperty('configMapRef');
  });

  it('give SHUTDOWN_GRACE_MS time to finish before SIGKILL (terminationGracePeriodSeconds)', () => {
    const helper = defines.get('gateway.terminationGracePeriodSeconds') ?? '';
    // preStop sleep + ceil(shutdownGraceMs / 1000) + margin.
    expect(helper).toContain('div (add (int .root.Values.config.shutdownGraceMs) 999) 1000');
    expect(helper).toContain(
      'add (int .preStopSeconds) $graceSeconds (int .root.Values.lifecycle.terminationMarginSeconds)',
    );
    expect(templates.get('deployment-api.yaml')).toContain(
      'terminationGracePeriodSeconds: {{ include "gateway.terminationGracePeriodSeconds" (dict "root" . "preStopSeconds" .Values.lifecycle.preStopSleepSeconds) }}',
    );
    expect(templates.get('deployment-worker.yaml')).toContain(
      'terminationGracePeriodSeconds: {{ include "gateway.terminationGracePeriodSeconds" (dict "root" . "preStopSeconds" 0) }}',
    );
    const config = values['config'] as Json;
    const lifecycle = values['lifecycle'] as Json;
    const graceMs = config['shutdownGraceMs'] as number;
    const preStop = lifecycle['preStopSleepSeconds'] as number;
    const apiPeriod = preStop + Math.ceil(graceMs / 1000) + (lifecycle['terminationMarginSeconds'] as number);
    expect(apiPeriod).toBe(35);
    expect(apiPeriod).toBeGreaterThan(preStop + graceMs / 1000);
    // The ConfigMap hands the same value to the process.
    expect(templates.get('configmap.yaml')).toContain('SHUTDOWN_GRACE_MS: {{ .Values.config.shutdownGraceMs');
  });

  it('api waits in preStop for the ingress to let go; the worker, which takes no traffic, does not', () => {
    const api = container(find('Deployment', '-api'));
    expect(get(api, 'lifecycle.preStop.exec.command')).toEqual([
      'sleep',
      expect.stringMatching(/^__TPL_\d+__$/),
    ]);
    expect(container(find('Deployment', '-worker'))['lifecycle']).toBeUndefined();
  });
});

describe('configuration wiring', () => {
  it('sets only variables the gateway reads, with ports matching the containers', () => {
    const configMap = find('ConfigMap', '');
    const data = configMap['data'] as Json;
    const known = new Set<string>(ENV_VARIABLES);
    const names = Object.keys(data).filter((name) => !name.startsWith('__TPL_'));
    for (const name of names) expect(known.has(name), `${name} is not a gateway variable`).toBe(true);
    for (const role of ['api', 'worker']) {
      for (const name of envNames(container(find('Deployment', `-${role}`)))) {
        expect(known.has(name), `${name} is not a gateway variable`).toBe(true);
      }
    }
    expect(data).toMatchObject({ NODE_ENV: 'production', PORT: '3000', METRICS_PORT: '9090' });
    expect(names).toEqual(
      expect.arrayContaining(['ROCKETCHAT_URL', 'PUBLIC_URL', 'SHUTDOWN_GRACE_MS', 'LOG_LEVEL']),
    );
  });

  it('uses an existing Secret, or creates one and insists on its three values', () => {
    expect(defines.get('gateway.secretName')).toContain('.Values.secrets.existingSecret');
    const secretTemplate = templates.get('secret.yaml') ?? '';
    expect(secretTemplate).toMatch(/^\{\{- if not \.Values\.secrets\.existingSecret \}\}$/m);
    for (const key of ['jwtSecret', 'encryptionKey', 'redisUrl']) {
      expect(secretTemplate).toMatch(new RegExp(`required "[^"]+" \\.Values\\.secrets\\.${key}`));
    }
    expect(values['secrets']).toMatchObject({
      existingSecret: '',
      keys: { jwtSecret: 'JWT_SECRET', encryptionKey: 'GATEWAY_ENCRYPTION_KEY', redisUrl: 'REDIS_URL' },
    });
  });
});

describe('traffic, scaling and monitoring', () => {
  it('Ingress: SSE-safe ingress-nginx annotations, to the api Service', () => {
    const ingress = find('Ingress', '');
    const annotations = get(ingress, 'metadata.annotations') as Json;
    expect(annotations['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
    expect(annotations).toHaveProperty('nginx.ingress.kubernetes.io/proxy-read-timeout');
    expect(annotations).toHaveProperty('nginx.ingress.kubernetes.io/proxy-send-timeout');
    const text = templates.get('ingress.yaml') ?? '';
    expect(text).toContain('proxy-read-timeout: {{ .Values.ingress.nginxSse.proxyTimeoutSeconds | quote }}');
    expect(text).toContain('proxy-send-timeout: {{ .Values.ingress.nginxSse.proxyTimeoutSeconds | quote }}');
    // An hour: far above the heartbeat (SSE_HEARTBEAT_MS, 15 s), so only dead streams are cut.
    expect(get(values, 'ingress.nginxSse')).toMatchObject({ enabled: true, proxyTimeoutSeconds: 3600 });
    const backend = get(ingress, 'spec.rules.0.http.paths.0.backend.service') as Json;
    expect(String(backend['name'])).toMatch(/-api$/);
    expect(backend['port']).toEqual({ name: 'http' });
  });

  it('Services: the api on http, the workers headless for metrics', () => {
    const api = find('Service', '-api');
    expect(get(api, 'spec.ports')).toEqual([
      { name: 'http', port: expect.stringMatching(/^__TPL/), targetPort: 'http', protocol: 'TCP' },
      { name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' },
    ]);
    expect(get(api, 'spec.selector')).toMatchObject({ 'app.kubernetes.io/component': 'api' });
    const worker = find('Service', '-worker');
    expect(get(worker, 'spec.clusterIP')).toBe('None');
    expect(get(worker, 'spec.selector')).toMatchObject({ 'app.kubernetes.io/component': 'worker' });
  });

  it('HPA and PDB for both roles, the api autoscaled by default with at least two replicas', () => {
    for (const role of ['api', 'worker']) {
      const hpa = find('HorizontalPodAutoscaler', `-${role}`);
      expect(hpa['apiVersion']).toBe('autoscaling/v2');
      expect(get(hpa, 'spec.scaleTargetRef')).toMatchObject({ kind: 'Deployment' });
      expect(String(get(hpa, 'spec.scaleTargetRef.name'))).toMatch(new RegExp(`-${role}$`));
      const pdb = find('PodDisruptionBudget', `-${role}`);
      expect(pdb['apiVersion']).toBe('policy/v1');
      expect(get(pdb, 'spec.selector.matchLabels')).toMatchObject({ 'app.kubernetes.io/component': role });
      expect(get(values, `${role}.pdb.enabled`)).toBe(true);
      expect(get(values, `${role}.replicaCount`)).toBeGreaterThanOrEqual(2);
      expect(get(values, `${role}.resources.requests`)).toMatchObject({
        cpu: expect.any(String),
        memory: expect.any(String),
      });
      expect(get(values, `${role}.resources.limits.memory`)).toEqual(expect.any(String));
    }
    expect(get(values, 'api.autoscaling')).toMatchObject({ enabled: true, minReplicas: 2 });
  });

  it('ServiceMonitor and NetworkPolicy: optional and off by default', () => {
    expect(get(values, 'serviceMonitor.enabled')).toBe(false);
    expect(get(values, 'networkPolicy.enabled')).toBe(false);
    expect(templates.get('servicemonitor.yaml')).toMatch(/\{\{- if \.Values\.serviceMonitor\.enabled \}\}/);
    expect(templates.get('networkpolicy.yaml')).toMatch(/\{\{- if \.Values\.networkPolicy\.enabled \}\}/);
    const monitor = find('ServiceMonitor', '');
    expect(monitor['apiVersion']).toBe('monitoring.coreos.com/v1');
    expect(get(monitor, 'spec.endpoints.0')).toMatchObject({ port: 'metrics', path: '/metrics' });
    const policy = find('NetworkPolicy', '-api');
    expect(get(policy, 'spec.policyTypes')).toEqual(['Ingress']);
    expect((get(policy, 'spec.ingress') as Json[]).map((rule) => get(rule, 'ports.0.port'))).toEqual([
      'http',
      'metrics',
    ]);
  });
});

describe('values.yaml', () => {
  it('documents every setting with a comment', () => {
    const doc = parseDocument(valuesText);
    const undocumented: string[] = [];
    const walk = (map: YAMLMap, path: string, depth: number): void => {
      map.items.forEach((pair, index) => {
        const key = isScalar(pair.key) ? String(pair.key.value) : '?';
        const keyNode = pair.key as Node | null;
        const documented = Boolean(keyNode?.commentBefore) || (index === 0 && Boolean(map.commentBefore));
        // Settings only: the contents of example maps (resources, selectors) explain themselves.
        if (!documented && depth <= 3) undocumented.push(`${path}${key}`);
        if (
          isMap(pair.value) &&
          depth < 3 &&
          !['resources', 'ingressNamespaceSelector', 'metricsNamespaceSelector'].includes(key)
        ) {
          walk(pair.value, `${path}${key}.`, depth + 1);
        }
      });
    };
    const contents = doc.contents;
    expect(isMap(contents)).toBe(true);
    walk(contents as YAMLMap, '', 1);
    expect(undocumented).toEqual([]);
  });
});

describe('deploy/k8s: the plain kustomize base mirrors the chart', () => {
  const BASE = join(ROOT, 'deploy', 'k8s');
  const kustomization = parse(read(join(BASE, 'kustomization.yaml'))) as {
    resources: string[];
    configMapGenerator: { name: string; literals: string[] }[];
  };
  const plain: Json[] = kustomization.resources.flatMap((file) =>
    parseAllDocuments(read(join(BASE, file))).map((doc) => {
      expect(doc.errors, file).toEqual([]);
      return doc.toJS() as Json;
    }),
  );
  const plainFind = (kind: string, name: string): Json => {
    const found = plain.find((m) => m['kind'] === kind && get(m, 'metadata.name') === name);
    if (!found) throw new Error(`deploy/k8s has no ${kind} ${name}`);
    return found;
  };
  const literals = Object.fromEntries(
    (kustomization.configMapGenerator[0]?.literals ?? []).map((line) => line.split(/=(.*)/s).slice(0, 2)),
  ) as Record<string, string>;

  it('lists resources that exist, with the same kinds as the chart', () => {
    const kinds = plain.map((m) => `${m['kind']}/${get(m, 'metadata.name')}`).sort();
    expect(kinds).toEqual(
      [
        'Deployment/rocketchat-gateway-api',
        'Deployment/rocketchat-gateway-worker',
        'HorizontalPodAutoscaler/rocketchat-gateway-api',
        'Ingress/rocketchat-gateway',
        'PodDisruptionBudget/rocketchat-gateway-api',
        'PodDisruptionBudget/rocketchat-gateway-worker',
        'Service/rocketchat-gateway-api',
        'Service/rocketchat-gateway-worker',
        'ServiceAccount/rocketchat-gateway',
      ].sort(),
    );
  });

  it('sets only variables the gateway reads', () => {
    const known = new Set<string>(ENV_VARIABLES);
    for (const name of Object.keys(literals)) expect(known.has(name), name).toBe(true);
    for (const role of ['api', 'worker']) {
      const c = container(plainFind('Deployment', `rocketchat-gateway-${role}`));
      for (const name of envNames(c)) expect(known.has(name), name).toBe(true);
    }
    expect(literals).toMatchObject({ PORT: '3000', METRICS_PORT: '9090', NODE_ENV: 'production' });
  });

  it.each(['api', 'worker'])('%s: same role, probes, ports, security and secrets as the chart', (role) => {
    const plainDeployment = plainFind('Deployment', `rocketchat-gateway-${role}`);
    const chartDeployment = find('Deployment', `-${role}`);
    const c = container(plainDeployment);
    const chartContainer = container(chartDeployment);
    expect((c['env'] as Json[]).find((e) => e['name'] === 'GATEWAY_ROLE')).toEqual({
      name: 'GATEWAY_ROLE',
      value: role,
    });
    for (const key of ['ports', 'securityContext', 'volumeMounts'])
      expect(c[key], key).toEqual(chartContainer[key]);
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      expect(get(c, `${probe}.httpGet`), probe).toEqual(get(chartContainer, `${probe}.httpGet`));
    }
    expect(envNames(c).sort()).toEqual(envNames(chartContainer).sort());
    expect(get(plainDeployment, 'spec.template.spec.securityContext.runAsNonRoot')).toBe(true);
    expect(get(plainDeployment, 'spec.template.spec.automountServiceAccountToken')).toBe(false);
    // Grace: the api's preStop sleep, then SHUTDOWN_GRACE_MS, then a margin, as in the chart.
    const preStop = role === 'api' ? 5 : 0;
    const expected = preStop + Math.ceil(Number(literals['SHUTDOWN_GRACE_MS']) / 1000) + 5;
    expect(get(plainDeployment, 'spec.template.spec.terminationGracePeriodSeconds')).toBe(expected);
    if (role === 'api') expect(get(c, 'lifecycle.preStop.exec.command')).toEqual(['sleep', String(preStop)]);
    else expect(c['lifecycle']).toBeUndefined();
  });

  it('Ingress carries the SSE annotations for ingress-nginx', () => {
    const annotations = get(plainFind('Ingress', 'rocketchat-gateway'), 'metadata.annotations') as Json;
    expect(annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
    });
  });

  it.skipIf(spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status !== 0)(
    'builds with kubectl kustomize',
    () => {
      const result = spawnSync('kubectl', ['kustomize', BASE], { encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
      const built = parseAllDocuments(result.stdout).map((doc) => doc.toJS() as Json);
      expect(built.filter((m) => m['kind'] === 'ConfigMap')).toHaveLength(1);
      for (const m of built)
        expect(get(m, 'metadata.namespace') ?? 'rocketchat-gateway').toBe('rocketchat-gateway');
    },
  );
});
