// `megaphone simulator` as the built binary runs it: the repository's ready configuration found without
// --config (the binary sits at another depth of the tree than the sources), and clear failures.
import { spawn } from "node:child_process"
import { describe, expect, it } from "vitest"
import { bin, megaphone, scratchDirectory } from "./binary.ts"

describe("megaphone simulator", () => {
  it("without --config serves examples/simulator/simulator.json until SIGTERM", async () => {
    const child = spawn(process.execPath, [bin, "simulator", "--listen", "127.0.0.1:0"], {
      cwd: await scratchDirectory(),
      env: { PATH: process.env["PATH"] ?? "" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    let err = ""
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve))
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString()
        const found = /simulator on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1]
        if (found !== undefined) resolve(found)
      })
      void exited.then((code) => reject(new Error(`exited with ${code}: ${out}${err}`)))
    })
    expect(out).toMatch(/configuration \S*examples\/simulator\/simulator\.json, seed 42\)/)
    const phone = await fetch(`${url}/v23.0/106540352242922?fields=display_phone_number`, { headers: { authorization: "Bearer simulator-token" } })
    expect(await phone.json()).toMatchObject({ display_phone_number: "+420 601 000 001" })
    child.kill("SIGTERM")
    await exited
  })

  it("a missing configuration file or a bad --listen is a failure saying what to fix", async () => {
    const cwd = await scratchDirectory()
    const missing = await megaphone(cwd, ["simulator", "--config", "nowhere.json"])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain("Cannot read the simulator configuration nowhere.json")
    expect(missing.stderr).toContain("Check the path given with --config")
    const listen = await megaphone(cwd, ["simulator", "--listen", "loopback"])
    expect(listen.code).toBe(1)
    expect(listen.stderr).toContain("--listen loopback is not HOST:PORT")
  })
})
