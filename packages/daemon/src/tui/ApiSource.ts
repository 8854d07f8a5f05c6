/**
 * The dashboard's data over a running daemon's admin API (live, with actions): the same typed client and the
 * same failure messages as the CLI's remote commands (cli/Remote.ts).
 *
 * Errors by code and the soonest retries of the campaigns that have started come from `GET /api/failures`, read
 * once per refresh for both panels.
 */
import { readFile } from "node:fs/promises"
import { Cause, Duration, Effect, Exit } from "effect"
import type { Source } from "@megaphone/tui"
import { CommandFailed } from "../cli/Failure.ts"
import { type Client, type Remote, throughApi } from "../cli/Remote.ts"
import * as Convert from "./Convert.ts"

/** A dashboard request that takes longer than this shows as a failed refresh, not a frozen screen. */
const TIMEOUT = Duration.seconds(10)

/** Runs an effect whose failures are for people as a promise that rejects with an `Error` carrying the message. */
export const toPromise = async <A>(effect: Effect.Effect<A, { readonly message: string }>): Promise<A> => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) return exit.value
  const error = Cause.squash(exit.cause)
  throw new Error(typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error))
}

/** The dashboard's source over the admin API at `remote`. */
export const make = (remote: Remote): Source.Source => {
  const call = <A, E>(request: (client: Client) => Effect.Effect<A, E>): Promise<A> =>
    toPromise(throughApi(remote, request).pipe(
      Effect.timeoutOrElse({
        duration: TIMEOUT,
        orElse: () =>
          Effect.fail(new CommandFailed({ message: `The admin API at ${remote.baseUrl} did not answer within ${Duration.format(TIMEOUT)}.` }))
      })
    ))

  // One read serves both the errors and the retries of a refresh.
  let failedRead: { readonly at: number; readonly result: ReturnType<typeof readFailed> } | undefined
  const readFailed = () =>
    call((client) =>
      Effect.gen(function*() {
        const { campaigns } = yield* client.campaigns.list()
        const watched = Convert.watched(campaigns).map((c) => c.id)
        const failures: Convert.Failures = watched.length === 0
          ? { errors: [], retries: [] }
          : yield* client.campaigns.failures({ query: { campaign: watched, retries: Convert.SOONEST_RETRIES } })
        return { campaigns, failures }
      })
    )
  const failed = () => {
    const now = Date.now()
    if (failedRead === undefined || now - failedRead.at > 500) failedRead = { at: now, result: readFailed() }
    return failedRead.result
  }

  const change = (operation: "pause" | "resume" | "stop") => (id: string) =>
    call((client) => client.campaigns[operation]({ params: { id } })).then((c) => ({ campaign: Convert.campaign(c), cancelled: c.cancelled }))

  return {
    mode: { _tag: "Live", description: `admin API at ${remote.baseUrl}` },
    campaigns: () => call((client) => client.campaigns.list()).then(({ campaigns }) => campaigns.map(Convert.campaign)),
    accounts: () =>
      call((client) => Effect.all([client.accounts.list(), client.accounts.quotas()], { concurrency: 2 })).then(([{ accounts }, { quotas }]) =>
        accounts.map((a) => Convert.account(a, quotas.find((q) => q.account === a.name)))
      ),
    recentErrors: () => failed().then(({ failures }) => Convert.errorGroups(failures)),
    retries: () => failed().then(({ campaigns, failures }) => Convert.retries(campaigns, failures)),
    templateIssues: () =>
      call((client) => Effect.all([client.templates.list({ query: {} }), client.campaigns.list()], { concurrency: 2 })).then(
        ([{ templates }, { campaigns }]) => Convert.templateIssues(templates, campaigns)
      ),
    contacts: (id, query) =>
      call((client) =>
        client.campaigns.contacts({
          params: { id },
          query: {
            limit: query.limit,
            ...(query.state === undefined ? {} : { state: query.state }),
            ...(query.afterId === undefined ? {} : { after_id: query.afterId })
          }
        })
      ).then((page) => ({ contacts: page.contacts.map(Convert.contact), nextAfterId: page.next_after_id })),
    pause: change("pause"),
    resume: change("resume"),
    stop: change("stop"),
    addContacts: (id, request) =>
      request._tag === "Csv"
        ? readFile(request.path).then(
          (bytes) =>
            call((client) =>
              client.campaigns.addFromCsv({
                params: { id },
                query: { default: Object.entries(request.defaults).map(([variable, value]) => `${variable}=${value}`) },
                payload: bytes
              })
            ).then(Convert.addReport),
          (error: unknown) => {
            throw new Error(`Cannot read ${request.path}: ${error instanceof Error ? error.message : String(error)}. Check the path.`)
          }
        )
        : call((client) =>
          client.campaigns.addFromDirectory({
            params: { id },
            payload: {
              ...("name" in request.filter ? { filter: request.filter.name } : { where: request.filter.where }),
              phone_column: request.phoneColumn,
              vars: request.vars,
              defaults: request.defaults
            }
          })
        ).then(Convert.addReport),
    retry: (id, request) =>
      call((client) => client.campaigns.retry({ params: { id }, payload: { states: request.states, codes: request.codes ?? [] } })).then((r) => ({
        campaign: Convert.campaign(r),
        retried: r.retried,
        suppressed: r.suppressed
      }))
  }
}
