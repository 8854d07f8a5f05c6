/** The `megaphone` command line (SPEC §7): the command tree, runnable with any argument list. */
import { Command } from "effect/cli"
import { accounts } from "./commands/accounts.ts"
import { campaigns } from "./commands/campaigns.ts"
import { contacts } from "./commands/contacts.ts"
import { daemon } from "./commands/daemon.ts"
import { demo } from "./commands/demo.ts"
import { filters } from "./commands/filters.ts"
import { migrate } from "./commands/migrate.ts"
import { simulator } from "./commands/simulator.ts"
import { templates } from "./commands/templates.ts"
import { tui } from "./commands/tui.ts"

/** The root command and its subcommands. */
export const megaphone = Command.make("megaphone").pipe(
  Command.withDescription("WhatsApp template-message campaigns through Meta's Cloud API."),
  Command.withSubcommands([migrate, accounts, templates, contacts, filters, campaigns, daemon, tui, simulator, demo])
)

/** Run the CLI on an argument list (without `node` and the script). */
export const run = Command.runWith(megaphone, { version: "0.1.0" })
