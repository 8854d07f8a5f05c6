/** What a contact of a suppressed recipient shows as its last error, the same in every adapter. */

/** The `opted_out` text for a recipient on the suppression list with this reason. */
export const optedOutText = (reason: string): string =>
  `The recipient is on the suppression list (${reason}); remove them from it only if they agreed to receive messages again.`
