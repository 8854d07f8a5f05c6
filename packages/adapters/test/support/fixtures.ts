// Records that tests and benchmarks build again and again (no test runner imports: benchmarks use it too).
import type { Ports } from "@megaphone/core"

const T0 = new Date("2026-11-26T10:00:00.000Z")

/** An account with room to send; override what a test needs. */
export const account = (name: string, overrides: Partial<Ports.Storage.Account> = {}): Ports.Storage.Account => ({
  name,
  phoneNumberId: `pn-${name}`,
  wabaId: "waba-1",
  portfolioId: null,
  tokenEnv: "MEGAPHONE_ACCESS_TOKEN",
  graphUrl: "http://127.0.0.1:8789",
  graphVersion: "v23.0",
  displayPhoneNumber: "+420 601 000 000",
  messagingLimit: 10_000,
  messagingTier: "TIER_10K",
  qualityRating: "GREEN",
  throughputMps: 1000,
  throughputLevel: "HIGH",
  nameStatus: "APPROVED",
  status: "CONNECTED",
  createdAt: T0,
  updatedAt: T0,
  ...overrides
})

/** An account no limit ever holds back: unlimited 24 h tier, throughput far above what a database can do. */
export const unlimitedAccount = (name: string, overrides: Partial<Ports.Storage.Account> = {}): Ports.Storage.Account =>
  account(name, { messagingLimit: "unlimited", messagingTier: "TIER_UNLIMITED", throughputMps: 1_000_000, ...overrides })
