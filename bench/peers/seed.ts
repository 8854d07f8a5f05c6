/** The peers' campaign data: the `contacts` table filled with the same contacts Megaphone's campaign gets. */
import { makeSender, type PeerEnv } from "./common.ts"

/** The phone number id of business number `k` (the simulator is configured with the same ids). */
export const phoneNumberId = (k: number): string => String(106_540_352_242_900 + k)

/** Contact `n`: a distinct Czech mobile number, sent from number `n mod numbers`. */
export const contact = (n: number, numbers: number) => ({
  phoneNumberId: phoneNumberId(n % numbers),
  recipient: `420${600_000_000 + n}`,
  salutation: "pane",
  name: `Novák ${n}`,
  orderNumber: `2024-${n}`
})

/** Creates the table, inserts `contacts` rows; returns their ids. */
export const seedContacts = async (env: PeerEnv, table: string, contacts: number, numbers: number) => {
  const sender = makeSender(env)
  await sender.pool.query(table)
  const ids: Array<number> = []
  for (let start = 0; start < contacts; start += 10_000) {
    const rows = Array.from({ length: Math.min(10_000, contacts - start) }, (_, i) => contact(start + i, numbers))
    const { rows: inserted } = await sender.pool.query<{ id: string }>(
      `insert into contacts (phone_number_id, recipient, salutation, name, order_number)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) returning id`,
      [rows.map((r) => r.phoneNumberId), rows.map((r) => r.recipient), rows.map((r) => r.salutation), rows.map((r) => r.name), rows.map((r) => r.orderNumber)]
    )
    ids.push(...inserted.map((r) => Number(r.id)))
  }
  return { sender, ids }
}
