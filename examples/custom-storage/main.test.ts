// The example runs as a developer runs it — `node examples/custom-storage/main.ts` from the repository root, a child
// process — and must finish the campaign with the counts it checks (it exits non-zero otherwise).
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { expect, it } from "vitest"

const root = fileURLToPath(new URL("../../", import.meta.url))

it("node examples/custom-storage/main.ts sends the campaign on a SQLite file and reads it back", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ["examples/custom-storage/main.ts"], {
    cwd: root,
    timeout: 30_000,
    env: { PATH: process.env["PATH"] ?? "" }
  })
  expect(stdout).toContain(`Directory: 6 contacts imported, 5 match the saved filter praha: city = "Praha"`)
  expect(stdout).toMatch(/^\+420601123456 +read +wamid\.EXAMPLE\d{4}$/m)
  expect(stdout).toMatch(/^\+420604456789 +invalid_record +The recipient is on the suppression list \(replied STOP\)/m)
  expect(stdout).toContain("Campaign: Finished; 1 sent, 1 delivered, 1 read, 1 invalid_record, 1 sending_failed")
}, 40_000)
