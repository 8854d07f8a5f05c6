// The PostgreSQL adapter against the shared storage conformance suite, on every server of this test run.
import { Effect, Layer } from "effect"
import { Ports } from "@megaphone/core"
import * as PgStorage from "../../../src/storage/postgres/PgStorage.ts"
import { describeServers, pgLayer } from "../../support/postgres.ts"
import { storageConformance } from "../conformance.ts"

describeServers("PgStorage", (kind) => {
  // A fresh, migrated database per test.
  storageConformance(`postgres (${kind})`, () =>
    Layer.effect(Ports.Storage.Storage, Effect.andThen(PgStorage.migrate, PgStorage.make)).pipe(
      Layer.provide(pgLayer(kind, { maxConnections: 6 }))
    ), { timeoutMs: 120_000 })
})
