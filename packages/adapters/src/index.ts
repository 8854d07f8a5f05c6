/** @megaphone/adapters — storage (in-memory, PostgreSQL, embedded) and transport (Cloud API, simulator). Lands with issues 4 and 5. */
export {}
