/** The ports adapters implement: storage, transport, and the clock (Effect's). */
export * as Clock from "./Clock.ts"
export * as Storage from "./Storage.ts"
export * as Transport from "./Transport.ts"
