/**
 * Megaphone's pure core on its own: decode a synced template, map one CSV row onto it, print the Cloud API body.
 * Run: npx node examples/core-only/main.ts
 */
import { Result } from "effect"
import { Mapping, Phone, Template } from "@megaphone/core"

// One element of Graph's GET /{WABA_ID}/message_templates `data[]`, as Meta returns it.
const graphTemplate: unknown = {
  id: "1689556908129832",
  name: "order_done",
  language: "cs",
  status: "APPROVED",
  category: "UTILITY",
  components: [{
    type: "BODY",
    text: "Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena.",
    example: { body_text: [["pane", "Nováku", "2024-0001"]] }
  }]
}

// A positional CSV: the phone first, then one column per variable in order (`megaphone campaigns template-csv`).
const csvHeader = ["phone", "salutation", "name", "order number"]
const csvLine = "+420 601 123 456;pane;Novák;2024-0042"

function fail(what: string, message: string): never {
  console.error(`${what}: ${message}`)
  process.exit(1)
}

const decoded = Template.decode(graphTemplate)
if (Result.isFailure(decoded)) fail("template", decoded.failure.message)
const template = decoded.success

const usability = Template.usability(template, "cs")
if (!usability.usable) fail("template", usability.problems.map((problem) => problem.en).join(" "))

// A default fills a contact's empty salutation, so no customer gets a blank.
const mapping = Mapping.fromCsvHeader(template, csvHeader, { 1: "pane" })
if (Result.isFailure(mapping)) fail("mapping", mapping.failure.message)
const validMapping = mapping.success

const row = Mapping.csvRow(csvHeader, csvLine.split(";"))
const phone = Phone.normalize(row[validMapping.phoneColumn] ?? "", { defaultCountry: "CZ" })
if (Result.isFailure(phone)) fail("phone", phone.failure.message)

const parameters = Mapping.resolve(template, validMapping, row)
if (Result.isFailure(parameters)) fail("row", parameters.failure.message)

const payload = Mapping.buildPayload(template, phone.success.waId, parameters.success, {
  bizOpaqueCallbackData: "campaign1:contact1"
})
if (Result.isFailure(payload)) fail("payload", payload.failure.message)
console.log(JSON.stringify(payload.success, null, 2))
