// The in-memory adapter against the shared storage conformance suite.
import * as MemoryStorage from "../../../src/storage/memory/MemoryStorage.ts"
import { storageConformance } from "../conformance.ts"

storageConformance("in-memory", () => MemoryStorage.layer)
