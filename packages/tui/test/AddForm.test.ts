// The add-contacts form's parsing: VARIABLE=VALUE pairs, and the request each choice makes.
import { describe, expect, it } from "vitest"
import * as AddForm from "../src/AddForm.ts"

describe("AddForm", () => {
  it("reads VARIABLE=VALUE pairs; a value may hold spaces up to the next pair", () => {
    expect(AddForm.pairs("")).toEqual({})
    expect(AddForm.pairs("1=salutation, 2=name header.1=city")).toEqual({ 1: "salutation", 2: "name", "header.1": "city" })
    expect(AddForm.pairs("2=pane a paní 3=objednávka")).toEqual({ 2: "pane a paní", 3: "objednávka" })
    expect(AddForm.pairs("name")).toBe("“name” is not VARIABLE=VALUE")
  })

  it("makes a CSV or a directory request, or says what is missing", () => {
    const csv = { ...AddForm.empty, value: " k.csv ", defaults: "2=zákazník" }
    expect(AddForm.toRequest(csv)).toEqual({ _tag: "Csv", path: "k.csv", defaults: { 2: "zákazník" } })
    const where = { ...AddForm.cycle(AddForm.cycle(AddForm.empty, 1), 1), value: "city = \"Praha\"", vars: "1=name" }
    expect(AddForm.toRequest(where)).toEqual({
      _tag: "Directory", filter: { where: "city = \"Praha\"" }, phoneColumn: "phone", vars: { 1: "name" }, defaults: {}
    })
    expect(AddForm.toRequest({ ...where, phoneColumn: " " })).toMatchObject({ focus: "phoneColumn", error: "Give the directory column that holds the phone number." })
    expect(AddForm.toRequest({ ...where, vars: "x" })).toMatchObject({ focus: "vars", error: "Variables: “x” is not VARIABLE=VALUE." })
    expect(AddForm.fields("csv")).toEqual(["from", "value", "defaults"])
    expect(AddForm.move({ ...AddForm.empty, focus: "defaults" }, 1).focus).toBe("from")
  })
})
