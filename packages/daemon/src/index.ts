/**
 * @megaphone/daemon — the `megaphone` command line, the dispatcher (one account's rounds), template sync and
 * status handling, and the webhook receiver. The daemon process and its admin API arrive with issue 6.
 */
export * as Cli from "./cli/Cli.ts"
export * as Dispatcher from "./dispatch/Dispatcher.ts"
export * as Failure from "./cli/Failure.ts"
export * as TemplateStatus from "./templates/TemplateStatus.ts"
export * as TemplateSync from "./templates/TemplateSync.ts"
export * as Receiver from "./webhook/Receiver.ts"
