// Secrets from the environment, a NAME_FILE file or systemd's credentials directory, in that order; an
// unreadable source is an error naming the variable and the path, never the content.
import { mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Effect, Option, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { renderProblem } from "../../src/config/ConfigError.ts"
import * as Secrets from "../../src/config/Secrets.ts"
import { scratch, writeFileIn } from "./support.ts"

const dir = await scratch()
const credentials = join(dir, "credentials")
await mkdir(credentials)
await writeFile(join(credentials, "SHOP_TOKEN"), "token-from-credential\n")
const tokenFile = await writeFileIn(dir, "  token-from-file\n\n", "shop-token")

const read = (name: string, env: Secrets.Environment) =>
  Effect.runPromise(Secrets.read(name, env).pipe(Effect.map(Option.map(Redacted.value))))
const locate = (name: string, env: Secrets.Environment) =>
  Effect.runPromise(Secrets.locate(name, env).pipe(Effect.map(Option.map((found) => [Redacted.value(found.value), found.source]))))
const failure = (name: string, env: Secrets.Environment) =>
  Effect.runPromise(Effect.flip(Secrets.read(name, env))).then((error) => error.problems.map(renderProblem))

describe("Secrets.read", () => {
  it("takes the variable, else its _FILE, else the credential; each trimmed", async () => {
    const all = { SHOP_TOKEN: " token-from-env ", SHOP_TOKEN_FILE: tokenFile, CREDENTIALS_DIRECTORY: credentials }
    expect(await locate("SHOP_TOKEN", all)).toEqual(Option.some(["token-from-env", "SHOP_TOKEN"]))
    expect(await locate("SHOP_TOKEN", { ...all, SHOP_TOKEN: "" })).toEqual(Option.some(["token-from-file", `SHOP_TOKEN_FILE (${tokenFile})`]))
    expect(await locate("SHOP_TOKEN", { CREDENTIALS_DIRECTORY: credentials }))
      .toEqual(Option.some(["token-from-credential", "$CREDENTIALS_DIRECTORY/SHOP_TOKEN"]))
  })

  it("is none when no source has it, including a credentials directory without that credential", async () => {
    expect(await read("SHOP_TOKEN", {})).toEqual(Option.none())
    expect(await read("OTHER_TOKEN", { CREDENTIALS_DIRECTORY: credentials })).toEqual(Option.none())
  })

  it("an account's token variable is read the same way (Secrets.read(account.tokenEnv, env))", async () => {
    expect(await read("MEGAPHONE_ACCESS_TOKEN", { MEGAPHONE_ACCESS_TOKEN_FILE: tokenFile })).toEqual(Option.some("token-from-file"))
  })

  it("a _FILE that names a missing file, a directory or an empty file is an error naming the variable and the path", async () => {
    const missing = join(dir, "nope")
    const empty = await writeFileIn(dir, " \n", "empty")
    expect(await failure("SHOP_TOKEN", { SHOP_TOKEN_FILE: missing })).toEqual([
      `SHOP_TOKEN_FILE: names the file ${missing}, which does not exist; create it with the secret, or fix the path`
    ])
    expect(await failure("SHOP_TOKEN", { SHOP_TOKEN_FILE: dir })).toEqual([`SHOP_TOKEN_FILE: names the file ${dir}, but it is not a regular file`])
    expect(await failure("SHOP_TOKEN", { SHOP_TOKEN_FILE: empty })).toEqual([`SHOP_TOKEN_FILE: names the file ${empty}, but it is empty; write the secret into it`])
  })

  it("a credential that exists but cannot be used is an error; the content is never in it", async () => {
    const broken = join(dir, "broken-credentials")
    await mkdir(join(broken, "SHOP_TOKEN"), { recursive: true })
    expect(await failure("SHOP_TOKEN", { CREDENTIALS_DIRECTORY: broken })).toEqual([
      `$CREDENTIALS_DIRECTORY/SHOP_TOKEN: the credential file ${join(broken, "SHOP_TOKEN")} exists, but it is not a regular file`
    ])
    const big = await writeFileIn(dir, `secret-${"x".repeat(70_000)}`, "big")
    const message = await failure("SHOP_TOKEN", { SHOP_TOKEN_FILE: big })
    expect(message).toEqual([`SHOP_TOKEN_FILE: names the file ${big}, but it is larger than 64 KiB; a secret file holds only the secret`])
  })

  it("refuses a name that is not a variable name, so a token variable cannot point outside the credentials directory", async () => {
    expect(await failure("../etc/passwd", { CREDENTIALS_DIRECTORY: credentials })).toEqual([
      "../etc/passwd: is not a valid environment variable name (letters, digits and _, not starting with a digit)"
    ])
  })
})

describe("Secrets.required", () => {
  it("says what the secret is for and the three ways to give it", async () => {
    const error = await Effect.runPromise(Effect.flip(Secrets.required("SHOP_TOKEN", {}, "the access token of account shop")))
    expect(error.problems.map(renderProblem)).toEqual([
      "SHOP_TOKEN: is not set. It is the access token of account shop; set SHOP_TOKEN, or name a file holding it in SHOP_TOKEN_FILE, " +
      "or pass it as the systemd credential SHOP_TOKEN (LoadCredential=SHOP_TOKEN:/etc/megaphone/SHOP_TOKEN)."
    ])
  })
})
