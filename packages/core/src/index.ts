/**
 * @megaphone/core — the pure campaign domain. Re-exports only; one namespace per concept.
 *
 *   import { ContactState, Mapping, Template } from "@megaphone/core"
 */
export * as Campaign from "./Campaign.ts"
export * as ContactState from "./ContactState.ts"
export * as ErrorClass from "./ErrorClass.ts"
export * as Filter from "./Filter.ts"
export * as Mapping from "./Mapping.ts"
export * as Phone from "./Phone.ts"
export * as Quota from "./Quota.ts"
export * as RetryPolicy from "./RetryPolicy.ts"
export * as Schedule from "./Schedule.ts"
export * as SendWindow from "./SendWindow.ts"
export * as Template from "./Template.ts"
export * as Webhook from "./Webhook.ts"
export * as Ports from "./ports/index.ts"
