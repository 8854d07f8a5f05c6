// The example SQLite adapter against the shared storage conformance suite — imported as a third-party adapter would
// import it — once on private in-memory databases and once on files, as daemons would use it.
import { storageConformance } from "@megaphone/adapters/conformance"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import * as SqliteStorage from "./SqliteStorage.ts"

storageConformance("sqlite (example)", () => SqliteStorage.layer(":memory:"))

// One new file per test: the suite needs an empty storage each time.
const directory = mkdtempSync(join(tmpdir(), "megaphone-sqlite-"))
let files = 0
afterAll(() => rmSync(directory, { recursive: true, force: true }))

storageConformance("sqlite (example, on a file)", () => SqliteStorage.layer(join(directory, `${++files}.db`)))
