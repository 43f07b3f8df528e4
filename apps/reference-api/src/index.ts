/**
 * @gatehouse/reference-api: the AuthAction, Auth0 and axioms-drf-py samples as one Fastify service protected by gatehouse.
 * `startReferenceApi` is what the `gatehouse` CLI starts; `buildApp` is the app without listening, for tests.
 */
export { BODY_LIMIT, type BuildAppOptions, buildApp } from './app.js'
export { settingsFromEnv } from './config.js'
export type { ApiErrorBody } from './errors.js'
export { LOG_LEVELS, type LogLevel, type LogStream } from './logging.js'
export { type OpenApiAuth, openApiDocument, openApiFor } from './openapi.js'
export {
  DEFAULT_DATA_DIR,
  DEFAULT_HOST,
  DEFAULT_PORT,
  type ReferenceApiOptions,
  type RunningApi,
  startReferenceApi,
} from './start.js'
