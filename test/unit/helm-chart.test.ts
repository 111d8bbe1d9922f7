/**
 * The Helm chart (helm/rocketchat-gateway), rendered as `helm template` renders it
 * (test/helpers/helm-template.ts: Go templates with Helm's functions, values merged over
 * values.yaml and checked against values.schema.json) with three sets of values: the defaults,
 * every option on, and an existing Secret. Every rendered manifest is validated against the
 * Kubernetes API schemas (npm `kubernetes-models`; the Prometheus Operator's and Gateway API's
 * CRD schemas from `@kubernetes-models/*`), then its structure is checked: roles, probes,
 * security, secrets only from Secrets, variables the gateway reads (src/config), alerts that
 * name real metrics. values.yaml is documented and the chart README lists every value. The plain
 * kustomize base in deploy/k8s is checked against the chart.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import {
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { isMap, isScalar, type Node, parse, parseAllDocuments, parseDocument, type YAMLMap } from 'yaml';
import { ENV_VARIABLES } from '../../src/config/env-schema.js';
import { createMetrics } from '../../src/metrics/index.js';
import { GoTemplates, type RenderedChart, renderChart } from '../helpers/helm-template.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHART = join(ROOT, 'helm', 'rocketchat-gateway');

type Json = Record<string, unknown>;

const read = (path: string): string => readFileSync(path, 'utf8');
const chart = parse(read(join(CHART, 'Chart.yaml'))) as Json;
const valuesText = read(join(CHART, 'values.yaml'));
const values = parse(valuesText) as Json;
const packageJson = JSON.parse(read(join(ROOT, 'package.json'))) as { version: string };

const SECRET_VARIABLES = [
  'GATEWAY_ENCRYPTION_KEY',
  'GATEWAY_ENCRYPTION_OLD_KEYS',
  'JWT_PRIVATE_KEY',
  'JWT_SECRET',
  'REDIS_URL',
];
const CHART_SECRETS = {
  jwtSecret: 'j'.repeat(40),
  encryptionKey: Buffer.alloc(32, 7).toString('base64'),
  redisUrl: 'redis://:pw@redis:6379',
};

/** `--set`s of the three renderings. */
const SCENARIOS = {
  defaults: { secrets: CHART_SECRETS },
  existingSecret: { secrets: { existingSecret: 'gateway-secrets', keys: { redisUrl: 'redis-url' } } },
  everything: {
    image: { registry: 'registry.example.com/chat', digest: `sha256:${'a'.repeat(64)}` },
    secrets: {
      ...CHART_SECRETS,
      jwtSecret: '',
      jwtPrivateKey: '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n',
      encryptionOldKeys: `k0:${Buffer.alloc(32, 1).toString('base64')}`,
      extraVariables: { JWT_PUBLIC_KEY: 'not secret, but may ride along' },
    },
    config: { extraEnv: { WORKER_MAX_SESSIONS: '5000' } },
    podLabels: { team: 'chat' },
    priorityClassName: 'high',
    extraEnv: [{ name: 'JWT_AUDIENCE', value: 'chat' }],
    extraEnvFrom: [{ secretRef: { name: 'more-settings' } }],
    extraVolumes: [{ name: 'jwt-key', secret: { secretName: 'jwt-key' } }],
    extraVolumeMounts: [{ name: 'jwt-key', mountPath: '/var/run/secrets/jwt', readOnly: true }],
    containerSecurityContext: { runAsNonRoot: true, readOnlyRootFilesystem: false },
    imagePullSecrets: [{ name: 'regcred' }],
    api: {
      podAnnotations: { a: 'b' },
      nodeSelector: { pool: 'api' },
      tolerations: [{ key: 'k', operator: 'Exists' }],
      affinity: { podAntiAffinity: {} },
    },
    worker: { autoscaling: { enabled: true } },
    ingress: { enabled: true, tls: [{ secretName: 'tls', hosts: ['gateway.example.com'] }] },
    httpRoute: {
      enabled: true,
      parentRefs: [{ name: 'public', namespace: 'gateway-system' }],
      hostnames: ['gateway.example.com'],
      timeouts: { request: '0s' },
    },
    serviceMonitor: { enabled: true, labels: { release: 'prom' } },
    prometheusRule: { enabled: true, labels: { release: 'prom' } },
    networkPolicy: { enabled: true },
    serviceAccount: { annotations: { 'iam.example.com/role': 'gw' } },
  },
} as const;

const rendered: Record<keyof typeof SCENARIOS, RenderedChart> = {
  defaults: renderChart(CHART, { values: SCENARIOS.defaults, releaseName: 'chat' }),
  existingSecret: renderChart(CHART, { values: SCENARIOS.existingSecret, releaseName: 'chat' }),
  everything: renderChart(CHART, { values: SCENARIOS.everything as unknown as Json, releaseName: 'chat' }),
};

// The Kubernetes (and CRD) schema of every kind the chart can render.
const MODELS: Record<string, { new (data: never): { validate(): void } }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  'gateway.networking.k8s.io/v1/HTTPRoute': HTTPRoute,
};

// The same kinds as TypeScript types: assigning a manifest as an object literal to its type makes
// the compiler refuse any field the API does not define (a typo the schemas above let through).
const TYPES: Record<string, { from: string; type: string }> = {
  'v1/ConfigMap': { from: 'kubernetes-models/v1', type: 'IConfigMap' },
  'v1/Secret': { from: 'kubernetes-models/v1', type: 'ISecret' },
  'v1/Service': { from: 'kubernetes-models/v1', type: 'IService' },
  'v1/ServiceAccount': { from: 'kubernetes-models/v1', type: 'IServiceAccount' },
  'apps/v1/Deployment': { from: 'kubernetes-models/apps/v1', type: 'IDeployment' },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    from: 'kubernetes-models/autoscaling/v2',
    type: 'IHorizontalPodAutoscaler',
  },
  'networking.k8s.io/v1/Ingress': { from: 'kubernetes-models/networking.k8s.io/v1', type: 'IIngress' },
  'networking.k8s.io/v1/NetworkPolicy': {
    from: 'kubernetes-models/networking.k8s.io/v1',
    type: 'INetworkPolicy',
  },
  'policy/v1/PodDisruptionBudget': { from: 'kubernetes-models/policy/v1', type: 'IPodDisruptionBudget' },
  'monitoring.coreos.com/v1/ServiceMonitor': {
    from: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
    type: 'IServiceMonitor',
  },
  'monitoring.coreos.com/v1/PrometheusRule': {
    from: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
    type: 'IPrometheusRule',
  },
  'gateway.networking.k8s.io/v1/HTTPRoute': {
    from: '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1',
    type: 'IHTTPRoute',
  },
};

/** What `kubeconform -strict` adds to schema validation: every field is one the API knows. */
function unknownFields(manifests: readonly Json[]): string[] {
  // Under node_modules, so the file resolves the packages and is neither linted nor committed.
  const dir = join(ROOT, 'node_modules', '.cache', 'helm-chart-test');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `manifests-${process.pid}.ts`);
  const imports = new Map<string, Set<string>>();
  const lines = manifests.map((manifest, i) => {
    const key = `${manifest['apiVersion']}/${manifest['kind']}`;
    const target = TYPES[key];
    if (!target) throw new Error(`no type for ${key}`);
    imports.set(target.from, (imports.get(target.from) ?? new Set()).add(target.type));
    return `export const m${i}: ${target.type} = ${JSON.stringify(manifest)};`;
  });
  const head = [...imports].map(
    ([from, types]) => `import type { ${[...types].join(', ')} } from '${from}';`,
  );
  writeFileSync(file, [...head, ...lines].join('\n'));
  try {
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
    });
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
      const index = line - head.length;
      const manifest = manifests[index];
      const name = manifest ? `${manifest['kind']} ${get(manifest, 'metadata.name')}` : file;
      return `#${index} ${name}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
  } finally {
    rmSync(file, { force: true });
  }
}

const BASE = join(ROOT, 'deploy', 'k8s');
const kustomization = parse(read(join(BASE, 'kustomization.yaml'))) as {
  resources: string[];
  configMapGenerator: { name: string; literals: string[] }[];
};

/** The manifests of the plain kustomize base, as written (before kustomize). */
function kustomizeManifests(): Json[] {
  return kustomization.resources.flatMap((file) =>
    parseAllDocuments(read(join(BASE, file))).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS() as Json;
    }),
  );
}

let strictLines: string[] | undefined;
/**
 * `unknownFields` over everything at once (one compilation is the slow part): every rendering of
 * the chart, the deploy/k8s base and a manifest with a deliberate typo, each line prefixed with
 * its group (`chart`, `deploy/k8s`, `typo`).
 */
function strictReport(): string[] {
  if (strictLines) return strictLines;
  const groups: [string, Json[]][] = [
    ['chart', (Object.keys(SCENARIOS) as (keyof typeof SCENARIOS)[]).flatMap(manifestsOf)],
    ['deploy/k8s', kustomizeManifests()],
  ];
  const typo = structuredClone(find(manifestsOf('defaults'), 'Deployment', '-api'));
  (typo['metadata'] as Json)['name'] = 'typo-check';
  (container(typo) as Json)['imagePullPolicyy'] = 'Always';
  groups.push(['typo', [typo]]);
  const all = groups.flatMap(([group, manifests]) => manifests.map((m) => [group, m] as const));
  strictLines = unknownFields(all.map(([, m]) => m)).map((line) => {
    const index = Number(/^#(\d+) /.exec(line)?.[1]);
    return `${all[index]?.[0] ?? '?'} ${line.replace(/^#\d+ /, '')}`;
  });
  return strictLines;
}

function manifestsOf(scenario: keyof typeof SCENARIOS): Json[] {
  return rendered[scenario].manifests.map((m) => m.manifest);
}

function find(manifests: readonly Json[], kind: string, nameSuffix: string): Json {
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
const kindsOf = (manifests: readonly Json[]): string[] =>
  manifests
    .map((m) => `${m['kind']}/${String(get(m, 'metadata.name')).replace(/^chat-rocketchat-gateway/, '')}`)
    .sort();

describe('Chart.yaml', () => {
  it('is a v2 application chart whose appVersion is the gateway version, with home, sources and kubeVersion', () => {
    expect(chart).toMatchObject({ apiVersion: 'v2', type: 'application', name: 'rocketchat-gateway' });
    expect(chart['version']).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
    expect(chart['appVersion']).toBe(packageJson.version);
    expect(String(chart['description']).length).toBeGreaterThan(20);
    expect(chart['home']).toMatch(/^https:\/\//);
    expect(chart['sources']).toEqual([expect.stringMatching(/^https:\/\//)]);
    expect(chart['kubeVersion']).toMatch(/^>=1\.\d+\.\d+-0$/);
  });
});

describe('the Go template renderer the tests use (test/helpers/helm-template.ts)', () => {
  const run = (source: string, data: unknown = {}): string => {
    const t = new GoTemplates();
    t.add('t', source);
    return t.execute('t', data);
  };
  it('trims at markers, ranges over maps in key order, chains else if, and prints nil as nothing', () => {
    expect(run('a  {{- " b " -}}  c')).toBe('a b c');
    expect(run('{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }}', { m: { b: 2, a: 1 } })).toBe(
      'a=1;b=2;',
    );
    expect(run('{{ if eq .x 1 }}one{{ else if eq .x 2 }}two{{ else }}many{{ end }}', { x: 2 })).toBe('two');
    expect(run('[{{ .missing }}]', {})).toBe('[]');
    expect(run('{{ $x := 1 }}{{ with .y }}{{ $x = . }}{{ end }}{{ $x }}', { y: 5 })).toBe('5');
    expect(run('{{ (dict "a" (list 1 2)).a | toYaml | nindent 2 }}')).toBe('\n  - 1\n  - 2');
    expect(run('{{ printf "%s-%q" "a" "b" | trunc 4 }}')).toBe('a-"b');
  });
  it('refuses what Helm refuses: a field of nothing, an unknown function, required and fail', () => {
    expect(() => run('{{ .a.b }}', {})).toThrow(/nil pointer/);
    expect(() => run('{{ nosuch 1 }}')).toThrow(/not defined/);
    expect(() => run('{{ required "need x" .x }}', {})).toThrow(/need x/);
    expect(() => run('{{ fail "stop" }}')).toThrow(/stop/);
  });
});

describe('rendering', () => {
  it.each(Object.keys(SCENARIOS) as (keyof typeof SCENARIOS)[])(
    '%s: every manifest is valid against its Kubernetes schema',
    (scenario) => {
      const manifests = manifestsOf(scenario);
      expect(manifests.length).toBeGreaterThan(8);
      for (const manifest of manifests) {
        const key = `${manifest['apiVersion']}/${manifest['kind']}`;
        const Model = MODELS[key];
        expect(Model, `no schema for ${key}`).toBeDefined();
        const name = `${key} ${get(manifest, 'metadata.name')}`;
        expect(
          () => new (Model as NonNullable<typeof Model>)(manifest as never).validate(),
          name,
        ).not.toThrow();
        // Every resource names its application and release the standard way.
        expect(get(manifest, 'metadata.labels'), name).toMatchObject({
          'app.kubernetes.io/name': 'rocketchat-gateway',
          'app.kubernetes.io/instance': 'chat',
          'app.kubernetes.io/part-of': 'rocketchat',
          'app.kubernetes.io/managed-by': 'Helm',
        });
      }
    },
  );

  it('has no field the Kubernetes API does not define, in any rendering (kubeconform -strict)', () => {
    const chartProblems = strictReport().filter((line) => line.startsWith('chart '));
    expect(chartProblems).toEqual([]);
    // The check itself: a misspelt field is reported, with the manifest that has it.
    expect(strictReport().filter((line) => line.startsWith('typo '))).toEqual([
      expect.stringMatching(/^typo Deployment typo-check: .*imagePullPolicyy/),
    ]);
  });

  it('renders the resources each set of values asks for, the optional ones off by default', () => {
    const base = [
      'ConfigMap/',
      'Deployment/-api',
      'Deployment/-worker',
      'HorizontalPodAutoscaler/-api',
      'PodDisruptionBudget/-api',
      'PodDisruptionBudget/-worker',
      'Service/-api',
      'Service/-worker',
      'ServiceAccount/',
    ];
    expect(kindsOf(manifestsOf('defaults'))).toEqual([...base, 'Secret/'].sort());
    expect(kindsOf(manifestsOf('existingSecret'))).toEqual(base.sort());
    expect(kindsOf(manifestsOf('everything'))).toEqual(
      [
        ...base,
        'Secret/',
        'HorizontalPodAutoscaler/-worker',
        'Ingress/',
        'HTTPRoute/',
        'ServiceMonitor/',
        'PrometheusRule/',
        'NetworkPolicy/-api',
        'NetworkPolicy/-worker',
      ].sort(),
    );
  });

  it('refuses values the schema or the templates do not allow, naming the problem', () => {
    const attempt = (v: Json) => () => renderChart(CHART, { values: v });
    // A typo is an error, not a silently ignored value.
    expect(attempt({ ...SCENARIOS.defaults, replicaCount: 3 })).toThrow(/additional properties/);
    expect(attempt({ ...SCENARIOS.defaults, api: { replicaCont: 3 } })).toThrow(/additional properties/);
    expect(attempt({ ...SCENARIOS.defaults, image: { pullPolicy: 'Sometimes' } })).toThrow(/pullPolicy/);
    // The chart-made Secret needs its values; an existing Secret needs none.
    expect(attempt({})).toThrow(/secrets/);
    expect(attempt({ secrets: { ...CHART_SECRETS, jwtSecret: 'short' } })).toThrow(/jwtSecret/);
    // A secret never goes through the ConfigMap.
    expect(
      attempt({ ...SCENARIOS.existingSecret, config: { extraEnv: { GATEWAY_ENCRYPTION_OLD_KEYS: 'x' } } }),
    ).toThrow(/GATEWAY_ENCRYPTION_OLD_KEYS is a secret/);
    expect(attempt({ ...SCENARIOS.defaults, httpRoute: { enabled: true } })).toThrow(/parentRefs/);
  });
});

describe('Deployments', () => {
  const roles = ['api', 'worker'] as const;
  const defaults = manifestsOf('defaults');

  it.each(roles)('%s: runs the image with that GATEWAY_ROLE, its own selector and replicas', (role) => {
    const deployment = find(defaults, 'Deployment', `-${role}`);
    const c = container(deployment);
    expect(c['image']).toBe(`rocketchat-realtime-gateway:${packageJson.version}`);
    expect((c['env'] as Json[]).find((e) => e['name'] === 'GATEWAY_ROLE')).toEqual({
      name: 'GATEWAY_ROLE',
      value: role,
    });
    expect(get(deployment, 'spec.selector.matchLabels')).toEqual({
      'app.kubernetes.io/name': 'rocketchat-gateway',
      'app.kubernetes.io/instance': 'chat',
      'app.kubernetes.io/component': role,
    });
    expect(get(deployment, 'spec.template.metadata.labels')).toMatchObject({
      'app.kubernetes.io/component': role,
      'app.kubernetes.io/part-of': 'rocketchat',
    });
    expect(get(deployment, 'spec.strategy.rollingUpdate')).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    // The HPA owns the api's replicas; the workers' come from values.
    expect(get(deployment, 'spec.replicas')).toBe(role === 'api' ? undefined : 2);
    expect(c['resources']).toEqual(get(values, `${role}.resources`));
  });

  it.each(roles)(
    '%s: probes /healthz (startup, liveness) and /readyz (readiness) on the HTTP port',
    (role) => {
      const c = container(find(defaults, 'Deployment', `-${role}`));
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
    const deployment = find(defaults, 'Deployment', `-${role}`);
    const c = container(deployment);
    expect(c['securityContext']).toEqual({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(get(deployment, 'spec.template.spec.securityContext')).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(get(deployment, 'spec.template.spec.automountServiceAccountToken')).toBe(false);
    expect(c['volumeMounts']).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(get(deployment, 'spec.template.spec.volumes')).toEqual([
      { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    ]);
    // The user the pods run as is the image's (Dockerfile USER 1000:1000).
    expect(read(join(ROOT, 'Dockerfile'))).toMatch(/^USER 1000:1000$/m);
  });

  it.each(roles)(
    '%s: takes every secret-bearing setting from the Secret, and names itself in leases',
    (role) => {
      for (const scenario of ['defaults', 'existingSecret'] as const) {
        const c = container(find(manifestsOf(scenario), 'Deployment', `-${role}`));
        const env = c['env'] as Json[];
        const secretName = scenario === 'existingSecret' ? 'gateway-secrets' : 'chat-rocketchat-gateway';
        for (const name of SECRET_VARIABLES) {
          const ref = get(
            env.find((e) => e['name'] === name),
            'valueFrom.secretKeyRef',
          ) as Json;
          expect(ref, `${scenario} ${name}`).toMatchObject({ name: secretName });
          // Alternatives and rotation-only keys may be missing from an existing Secret.
          const optional = ['JWT_SECRET', 'JWT_PRIVATE_KEY', 'GATEWAY_ENCRYPTION_OLD_KEYS'].includes(name);
          expect(ref['optional'], `${scenario} ${name}`).toBe(optional ? true : undefined);
        }
        if (scenario === 'existingSecret')
          expect(
            get(
              env.find((e) => e['name'] === 'REDIS_URL'),
              'valueFrom.secretKeyRef.key',
            ),
          ).toBe('redis-url');
        expect(env.find((e) => e['name'] === 'WORKER_ID')).toEqual({
          name: 'WORKER_ID',
          valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
        });
        expect(c['envFrom']).toEqual([{ configMapRef: { name: 'chat-rocketchat-gateway' } }]);
      }
    },
  );

  it.each(roles)(
    '%s: takes the extra labels, priority, env sources, volumes and security context it is given',
    (role) => {
      const deployment = find(manifestsOf('everything'), 'Deployment', `-${role}`);
      const c = container(deployment);
      const spec = get(deployment, 'spec.template.spec') as Json;
      expect(c['image']).toBe(
        `registry.example.com/chat/rocketchat-realtime-gateway@sha256:${'a'.repeat(64)}`,
      );
      expect(get(deployment, 'spec.template.metadata.labels')).toMatchObject({ team: 'chat' });
      expect(spec['priorityClassName']).toBe('high');
      expect(spec['imagePullSecrets']).toEqual([{ name: 'regcred' }]);
      expect(c['envFrom']).toEqual([
        { configMapRef: { name: 'chat-rocketchat-gateway' } },
        { secretRef: { name: 'more-settings' } },
      ]);
      expect(envNames(c)).toEqual(expect.arrayContaining(['JWT_AUDIENCE', 'JWT_PUBLIC_KEY']));
      expect(c['volumeMounts']).toEqual([
        { name: 'tmp', mountPath: '/tmp' },
        { name: 'jwt-key', mountPath: '/var/run/secrets/jwt', readOnly: true },
      ]);
      expect(spec['volumes']).toEqual([
        { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
        { name: 'jwt-key', secret: { secretName: 'jwt-key' } },
      ]);
      // Overridable as a whole object: Helm merges maps, so the other defaults stay.
      expect(c['securityContext']).toMatchObject({
        readOnlyRootFilesystem: false,
        allowPrivilegeEscalation: false,
      });
    },
  );

  it('give SHUTDOWN_GRACE_MS time to finish before SIGKILL (terminationGracePeriodSeconds)', () => {
    // preStop sleep + ceil(shutdownGraceMs / 1000) + margin.
    expect(
      get(find(defaults, 'Deployment', '-api'), 'spec.template.spec.terminationGracePeriodSeconds'),
    ).toBe(35);
    expect(
      get(find(defaults, 'Deployment', '-worker'), 'spec.template.spec.terminationGracePeriodSeconds'),
    ).toBe(30);
    const slow = renderChart(CHART, {
      values: { ...SCENARIOS.defaults, config: { shutdownGraceMs: 60_500 } },
    }).manifests.map((m) => m.manifest);
    expect(get(find(slow, 'Deployment', '-api'), 'spec.template.spec.terminationGracePeriodSeconds')).toBe(
      71,
    );
    // The ConfigMap hands the same value to the process.
    expect(get(find(slow, 'ConfigMap', ''), 'data.SHUTDOWN_GRACE_MS')).toBe('60500');
  });

  it('api waits in preStop for the ingress to let go; the worker, which takes no traffic, does not', () => {
    expect(get(container(find(defaults, 'Deployment', '-api')), 'lifecycle.preStop.exec.command')).toEqual([
      'sleep',
      '5',
    ]);
    expect(container(find(defaults, 'Deployment', '-worker'))['lifecycle']).toBeUndefined();
  });
});

describe('configuration wiring', () => {
  it('sets only variables the gateway reads, never a secret in the ConfigMap', () => {
    const known = new Set<string>(ENV_VARIABLES);
    for (const scenario of ['defaults', 'existingSecret', 'everything'] as const) {
      const manifests = manifestsOf(scenario);
      const data = get(find(manifests, 'ConfigMap', ''), 'data') as Json;
      for (const name of Object.keys(data))
        expect(known.has(name), `${name} is not a gateway variable`).toBe(true);
      for (const name of SECRET_VARIABLES) expect(data, `${scenario}: ${name}`).not.toHaveProperty(name);
      for (const role of ['api', 'worker'])
        for (const name of envNames(container(find(manifests, 'Deployment', `-${role}`))))
          expect(known.has(name), `${name} is not a gateway variable`).toBe(true);
      expect(data).toMatchObject({ NODE_ENV: 'production', PORT: '3000', METRICS_PORT: '9090' });
    }
  });

  it('creates a Secret with the values given, and none when an existing one is named', () => {
    const secret = find(manifestsOf('everything'), 'Secret', '');
    expect(secret['stringData']).toEqual({
      JWT_PRIVATE_KEY: SCENARIOS.everything.secrets.jwtPrivateKey,
      GATEWAY_ENCRYPTION_KEY: CHART_SECRETS.encryptionKey,
      GATEWAY_ENCRYPTION_OLD_KEYS: SCENARIOS.everything.secrets.encryptionOldKeys,
      REDIS_URL: CHART_SECRETS.redisUrl,
      JWT_PUBLIC_KEY: 'not secret, but may ride along',
    });
    expect(manifestsOf('existingSecret').some((m) => m['kind'] === 'Secret')).toBe(false);
    // A change of the Secret or ConfigMap rolls the pods.
    const annotations = get(
      find(manifestsOf('defaults'), 'Deployment', '-api'),
      'spec.template.metadata.annotations',
    );
    expect(annotations).toMatchObject({
      'checksum/config': expect.stringMatching(/^[0-9a-f]{64}$/),
      'checksum/secret': expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });
});

describe('traffic, scaling and monitoring', () => {
  const everything = manifestsOf('everything');

  it('Ingress: SSE-safe ingress-nginx annotations, to the api Service', () => {
    const ingress = find(everything, 'Ingress', '');
    expect(get(ingress, 'metadata.annotations')).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
    });
    expect(get(ingress, 'spec.rules.0.http.paths.0.backend.service')).toEqual({
      name: 'chat-rocketchat-gateway-api',
      port: { name: 'http' },
    });
  });

  it('HTTPRoute: the Gateway API alternative, to the api Service, with the timeouts given', () => {
    const route = find(everything, 'HTTPRoute', '');
    expect(get(route, 'spec.parentRefs')).toEqual([{ name: 'public', namespace: 'gateway-system' }]);
    expect(get(route, 'spec.hostnames')).toEqual(['gateway.example.com']);
    expect(get(route, 'spec.rules.0.backendRefs')).toEqual([
      { name: 'chat-rocketchat-gateway-api', port: 80 },
    ]);
    expect(get(route, 'spec.rules.0.timeouts')).toEqual({ request: '0s' });
  });

  it('Services: the api on http, the workers headless for metrics', () => {
    const api = find(everything, 'Service', '-api');
    expect(get(api, 'spec.ports')).toEqual([
      { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
      { name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' },
    ]);
    const worker = find(everything, 'Service', '-worker');
    expect(get(worker, 'spec.clusterIP')).toBe('None');
    expect(get(worker, 'spec.selector')).toMatchObject({ 'app.kubernetes.io/component': 'worker' });
  });

  it('HPA and PDB for both roles, the api autoscaled by default with at least two replicas', () => {
    for (const role of ['api', 'worker']) {
      const hpa = find(everything, 'HorizontalPodAutoscaler', `-${role}`);
      expect(get(hpa, 'spec.scaleTargetRef')).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: `chat-rocketchat-gateway-${role}`,
      });
      const pdb = find(everything, 'PodDisruptionBudget', `-${role}`);
      expect(get(pdb, 'spec.selector.matchLabels')).toMatchObject({ 'app.kubernetes.io/component': role });
      expect(get(values, `${role}.replicaCount`)).toBeGreaterThanOrEqual(2);
    }
    expect(get(values, 'api.autoscaling')).toMatchObject({ enabled: true, minReplicas: 2 });
  });

  it('ServiceMonitor and NetworkPolicy: optional, scraping and admitting the metrics port', () => {
    const monitor = find(everything, 'ServiceMonitor', '');
    expect(get(monitor, 'metadata.labels')).toMatchObject({ release: 'prom' });
    expect(get(monitor, 'spec.endpoints.0')).toMatchObject({ port: 'metrics', path: '/metrics' });
    const policy = find(everything, 'NetworkPolicy', '-api');
    expect(get(policy, 'spec.policyTypes')).toEqual(['Ingress']);
    expect((get(policy, 'spec.ingress') as Json[]).map((rule) => get(rule, 'ports.0.port'))).toEqual([
      'http',
      'metrics',
    ]);
  });

  it('PrometheusRule: the alerts docs/deployment.md lists, on metrics the gateway exports', async () => {
    const rule = find(everything, 'PrometheusRule', '');
    expect(get(rule, 'metadata.labels')).toMatchObject({ release: 'prom' });
    const alerts = get(rule, 'spec.groups.0.rules') as Json[];
    expect(alerts.map((a) => a['alert'])).toEqual([
      'RocketChatGatewayRedisErrors',
      'RocketChatGatewayEventLagHigh',
      'RocketChatGatewayWebhookFailures',
      'RocketChatGatewaySessionCapacity',
      'RocketChatGatewayHttpErrors',
      'RocketChatGatewayQueueBacklog',
    ]);
    const exported = new Set(
      (await createMetrics().registry.getMetricsAsJSON()).flatMap((m) =>
        m.type === ('histogram' as never) ? [`${m.name}_bucket`, m.name] : [m.name],
      ),
    );
    const docs = read(join(ROOT, 'docs', 'deployment.md'));
    for (const alert of alerts) {
      const expr = String(alert['expr']);
      for (const metric of expr.match(/gateway_[a-z_]+/g) ?? [])
        expect(exported.has(metric), metric).toBe(true);
      // Scoped to this release's pods, so two gateways in a namespace do not mix.
      expect(expr).toContain('job=~"chat-rocketchat-gateway-(api|worker)"');
      expect(docs, `${alert['alert']} in docs/deployment.md`).toContain(String(alert['alert']));
    }
    expect(get(values, 'prometheusRule.enabled')).toBe(false);
  });
});

describe('values.schema.json', () => {
  const schema = JSON.parse(read(join(CHART, 'values.schema.json'))) as Json;
  it('describes every value of values.yaml, and closes every settings map against typos', () => {
    const missing: string[] = [];
    const walk = (value: unknown, node: Json | undefined, path: string): void => {
      if (!node) {
        missing.push(path);
        return;
      }
      const properties = node['properties'] as Record<string, Json> | undefined;
      if (!properties || value === null || typeof value !== 'object' || Array.isArray(value)) return;
      expect(node['additionalProperties'], path || '(root)').toBe(false);
      for (const [key, child] of Object.entries(value))
        walk(child, properties[key], path ? `${path}.${key}` : key);
    };
    walk(values, schema, '');
    expect(missing).toEqual([]);
  });
});

describe('chart README', () => {
  it('lists every value of values.yaml in its table, with its default', () => {
    const readme = read(join(CHART, 'README.md'));
    const rows = new Map(
      [...readme.matchAll(/^\| `([\w./-]+)` \| ([^|]*) \| `(.*?)` \|/gm)].map((m) => [m[1], m[3]] as const),
    );
    const leaves: [string, unknown][] = [];
    const walk = (value: unknown, path: string): void => {
      if (
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        Object.keys(value).length > 0
      )
        for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
      else leaves.push([path, value]);
    };
    walk(values, '');
    for (const [path] of leaves) expect(rows.has(path), `README.md has no row for ${path}`).toBe(true);
    expect(rows.get('image.repository')).toBe('"rocketchat-realtime-gateway"');
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
          ![
            'resources',
            'ingressNamespaceSelector',
            'metricsNamespaceSelector',
            'podSecurityContext',
            'containerSecurityContext',
          ].includes(key)
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
  const plain = kustomizeManifests();
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

  it('is valid against the Kubernetes schemas, with no unknown field', () => {
    expect(strictReport().filter((line) => line.startsWith('deploy/k8s '))).toEqual([]);
    for (const manifest of plain) {
      const key = `${manifest['apiVersion']}/${manifest['kind']}`;
      const Model = MODELS[key];
      expect(Model, `no schema for ${key}`).toBeDefined();
      expect(() => new (Model as NonNullable<typeof Model>)(manifest as never).validate(), key).not.toThrow();
    }
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
    const chartDeployment = find(manifestsOf('existingSecret'), 'Deployment', `-${role}`);
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
