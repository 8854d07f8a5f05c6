/**
 * Template sync (SPEC §2, the seed's "Synchronizovat formuláře"): fetch every template of an account's WABA
 * from Meta, store them, explain each one that cannot be sent, and make the campaigns on a template that is
 * now unusable or gone pause — the same decision a status webhook leads to (see TemplateStatus).
 */
import { Ports, Template } from "@megaphone/core"
import { Clock, Effect, type Redacted } from "effect"
import { reconcileCampaigns, type ReconcileOptions } from "./TemplateStatus.ts"

/** A synced template that cannot be sent now, with the seed's warning-triangle explanation. */
export interface TemplateProblem {
  readonly name: string
  readonly language: string
  readonly status: string
  readonly explanation: string
}

/** What a sync changed, which templates cannot be sent, and the campaigns it paused or resumed. */
export interface SyncReport extends Ports.Storage.TemplateSyncResult {
  readonly problems: ReadonlyArray<TemplateProblem>
  readonly paused: ReadonlyArray<string>
  readonly resumed: ReadonlyArray<string>
}

/** What the transport needs to act for an account; the token comes from the variable its `tokenEnv` names. */
export const senderCredentials = (
  account: Ports.Storage.Account,
  accessToken: Redacted.Redacted<string>
): Ports.Transport.SenderCredentials => ({
  phoneNumberId: account.phoneNumberId,
  wabaId: account.wabaId,
  accessToken,
  graphUrl: account.graphUrl,
  graphVersion: account.graphVersion,
  // The transport routes on it: Meta's Cloud API directly, or 360dialog's endpoint.
  ...(account.provider === undefined ? {} : { provider: account.provider })
})

/** Why a template cannot be sent (every problem, in English), or undefined when it can. */
export const problemOf = (template: Template.Template): TemplateProblem | undefined => {
  const usability = Template.usability(template)
  if (usability.usable) return undefined
  return {
    name: template.name,
    language: template.language,
    status: template.status,
    explanation: usability.problems.map((p) => p.en).join(" ")
  }
}

/** The pause code for a template found by a sync: its status, or the structural problem of an approved one. */
const causeCode = (template: Template.Template | undefined): string => {
  if (template === undefined) return "DELETED"
  const usability = Template.usability(template)
  return template.status === "APPROVED" && !usability.usable ? usability.problems[0]?.code ?? template.status : template.status
}

/**
 * Sync an account's WABA: all pages from `Transport.listTemplates`, stored by `Storage.syncTemplates`, then
 * the problems of every listed template that cannot be sent, and every campaign on the WABA's accounts whose
 * template is now unusable or gone paused (or, with `autoResume`, resumed once usable again).
 */
export const syncTemplates = (
  account: Ports.Storage.Account,
  accessToken: Redacted.Redacted<string>,
  options: ReconcileOptions = {}
): Effect.Effect<
  SyncReport,
  Ports.Transport.TransportError | Ports.Storage.StorageError,
  Ports.Storage.Storage | Ports.Transport.Transport
> =>
  Effect.gen(function*() {
    const transport = yield* Ports.Transport.Transport
    const storage = yield* Ports.Storage.Storage
    const listed = yield* transport.listTemplates(senderCredentials(account, accessToken))
    const now = new Date(yield* Clock.currentTimeMillis)
    const result = yield* storage.syncTemplates(account.wabaId, listed, now)
    const stored = yield* storage.listTemplates(account.wabaId)
    const current = stored.filter((t) => t.deletedAt === null)
    const problems = current.flatMap((t) => {
      const problem = problemOf(t.template)
      return problem === undefined ? [] : [problem]
    })

    // Every template translation a campaign of this WABA uses, found or gone.
    const accounts = new Set((yield* storage.listAccounts()).filter((a) => a.wabaId === account.wabaId).map((a) => a.name))
    const used = new Map<string, { readonly name: string; readonly language: string }>()
    for (const campaign of yield* storage.listCampaigns()) {
      if (!accounts.has(campaign.accountName)) continue
      used.set(JSON.stringify([campaign.templateName, campaign.language]), { name: campaign.templateName, language: campaign.language })
    }
    const paused: Array<string> = []
    const resumed: Array<string> = []
    for (const { name, language } of used.values()) {
      const template = current.find((t) => t.template.name === name && t.template.language === language)?.template
      const changes = yield* reconcileCampaigns(
        account.wabaId,
        name,
        language,
        template,
        { code: causeCode(template), source: "sync" },
        now,
        options
      )
      paused.push(...changes.paused)
      resumed.push(...changes.resumed)
    }
    return { ...result, problems, paused, resumed }
  })
