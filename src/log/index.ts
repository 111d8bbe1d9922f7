export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export { REDACTED, redactUrl } from './redact-url.js';
