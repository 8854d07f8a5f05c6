/** The ports adapters implement. Storage arrives with the storage adapters (issue 4). */
export * as Clock from "./Clock.ts"
export * as Transport from "./Transport.ts"
