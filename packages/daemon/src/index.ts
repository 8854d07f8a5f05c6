/** @megaphone/daemon — dispatch, webhook receiver, admin API and the `megaphone` CLI. Lands with issue 6. */
export {}
