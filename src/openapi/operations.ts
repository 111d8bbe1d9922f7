/**
 * Probes, metrics and this document: `/healthz`, `/readyz`, `/metrics`, `/openapi.json`.
 */
import { HEADERS_TOO_LARGE, jsonResponse, type OpenApiPart, ref } from './shared.js';

export const operationsPart: OpenApiPart = {
  paths: {
    '/healthz': {
      get: {
        operationId: 'getHealth',
        tags: ['operations'],
        summary: 'Liveness: the process answers HTTP (never depends on Redis)',
        security: [],
        responses: { '200': jsonResponse('Alive', ref('Probe')), '431': HEADERS_TOO_LARGE },
      },
    },
    '/readyz': {
      get: {
        operationId: 'getReadiness',
        tags: ['operations'],
        summary: 'Readiness: Redis answers and the replica is not draining',
        security: [],
        responses: {
          '200': jsonResponse('Ready', ref('Probe')),
          '431': HEADERS_TOO_LARGE,
          '503': jsonResponse('Not ready; `reason` says why', ref('Probe'), undefined, {
            status: 'unavailable',
            reason: 'draining',
          }),
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        tags: ['operations'],
        summary: 'Prometheus metrics (on METRICS_PORT instead, when it is set)',
        security: [],
        responses: {
          '200': {
            description: 'Prometheus text exposition format 0.0.4',
            content: {
              'text/plain': {
                schema: { type: 'string' },
                example:
                  '# HELP gateway_sse_connections Open SSE client connections\n# TYPE gateway_sse_connections gauge\ngateway_sse_connections{role="api"} 12\n',
              },
            },
          },
          '431': HEADERS_TOO_LARGE,
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'getOpenApi',
        tags: ['operations'],
        summary: 'This document',
        security: [],
        responses: {
          '200': jsonResponse('OpenAPI 3.1 document', { type: 'object' }, undefined, {
            openapi: '3.1.0',
            info: { title: 'Rocket.Chat realtime gateway', version: '0.1.0' },
            paths: {},
          }),
          '431': HEADERS_TOO_LARGE,
        },
      },
    },
  },
};
