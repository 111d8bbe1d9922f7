export { ConfigError, type ConfigProblem } from './config-error.js';
export { DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS, ENV_VARIABLES, type EnvVariable } from './env-schema.js';
export type {
  EncryptionConfig,
  EncryptionKeyConfig,
  EventsConfig,
  GatewayConfig,
  GatewayRole,
  HttpConfig,
  JwtAlgorithm,
  JwtConfig,
  JwtKeyConfig,
  LogConfig,
  LoginFailureLimits,
  LogLevel,
  NodeEnv,
  OutboundConfig,
  RedisConfig,
  RocketChatConfig,
  SessionsConfig,
  SseConfig,
  WebhooksConfig,
} from './gateway-config.js';
export { loadConfig } from './load-config.js';
export { redactConfig } from './redact-config.js';
