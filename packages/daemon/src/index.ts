/**
 * @megaphone/daemon — the `megaphone` command line, the daemon's parts (the dispatcher, the webhook receiver,
 * template sync and status handling, the admin HTTP API with its metrics), and the daemon's configuration.
 */
export * as AdminApi from "./admin-api/AdminApi.ts"
export * as Cli from "./cli/Cli.ts"
export * as DaemonConfig from "./config/DaemonConfig.ts"
export * as Dispatcher from "./dispatch/Dispatcher.ts"
export * as Failure from "./cli/Failure.ts"
export * as Metrics from "./metrics/Metrics.ts"
export * as TemplateStatus from "./templates/TemplateStatus.ts"
export * as TemplateSync from "./templates/TemplateSync.ts"
export * as Receiver from "./webhook/Receiver.ts"
