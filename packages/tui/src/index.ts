/** @megaphone/tui — the Ink dashboard. Lands with issue 8. */
export {}
