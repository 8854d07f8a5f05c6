/**
 * @megaphone/daemon — the `megaphone` command line (migrate, accounts, templates, simulator), template sync and
 * template status handling. Dispatch and the admin API arrive with issue 6.
 */
export * as Cli from "./cli/Cli.ts"
export * as Failure from "./cli/Failure.ts"
export * as TemplateStatus from "./templates/TemplateStatus.ts"
export * as TemplateSync from "./templates/TemplateSync.ts"
