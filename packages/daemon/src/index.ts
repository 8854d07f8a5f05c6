/** @megaphone/daemon — the `megaphone` CLI (today: `migrate`); dispatch, webhooks and the admin API arrive with issue 6. */
export * as Cli from "./cli/Cli.ts"
export * as Failure from "./cli/Failure.ts"
