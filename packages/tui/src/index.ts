/**
 * @megaphone/tui — the Ink dashboard: watch and steer campaigns live. It sees only the core and its data port
 * ({@link Source}); the daemon's CLI provides the implementations (admin API, read-only database).
 *
 *   import { run, Source } from "@megaphone/tui"
 */
export * as AddForm from "./AddForm.ts"
export { Dashboard, type DashboardProps } from "./Dashboard.ts"
export * as Progress from "./Progress.ts"
export { run, type RunOptions } from "./Run.ts"
export * as Source from "./Source.ts"
export * as Theme from "./Theme.ts"
