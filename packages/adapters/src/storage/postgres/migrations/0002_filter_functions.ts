/**
 * SQL twins of the cell rules in `@megaphone/core`'s `Filter.evaluate`, so that `FilterSql.compile` selects exactly
 * the directory contacts the evaluator would. Each function mirrors one helper of the evaluator (named in its
 * comment); `test/storage/postgres/FilterSql.test.ts` property-tests the pair against each other on real servers.
 *
 * A cell is the `jsonb` value of a key in `directory_contacts.columns` (SQL NULL when the key is missing); a
 * filter's value arrives as text, with a flag saying whether the filter held a number.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

// JavaScript's String.prototype.trim and the regex \s remove exactly these: WhiteSpace and LineTerminator.
const whitespace = [9, 10, 11, 12, 13, 32, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197, 8198, 8199, 8200, 8201,
  8202, 8232, 8233, 8239, 8287, 12288, 65279].map((code) => `chr(${code})`).join(" || ")

/**
 * How `lower()` gets full Unicode case mapping (final sigma, İ → i̇) like `toLocaleLowerCase("cs")`: the builtin
 * `pg_unicode_fast` collation (PostgreSQL 18+), else ICU's root locale, else the database's default collation.
 */
const foldCollation = (available: ReadonlyArray<string>): string =>
  available.includes("pg_unicode_fast") ? ` collate pg_unicode_fast`
    : available.includes("und-x-icu") ? ` collate "und-x-icu"`
    : ""

// One statement per string: the extended query protocol runs a single statement at a time.
const statements = (collation: string): ReadonlyArray<string> => [
  `create or replace function megaphone_filter_whitespace() returns text
   language sql immutable parallel safe
   return ${whitespace}`,

  // evaluate's trim(): JavaScript's whitespace set, not btrim's default of spaces only.
  `create or replace function megaphone_filter_trim(t text) returns text
   language sql immutable parallel safe strict
   return btrim(t, megaphone_filter_whitespace())`,

  // evaluate's text() for a filter value: trimmed, NFC-normalised.
  `create or replace function megaphone_filter_text(t text) returns text
   language sql immutable parallel safe strict
   return normalize(megaphone_filter_trim(t), nfc)`,

  // evaluate's toLocaleLowerCase("cs") (the Czech locale has no tailoring of its own).
  `create or replace function megaphone_filter_fold(t text) returns text
   language sql immutable parallel safe strict
   return lower(t${collation})`,

  // JavaScript's Number() of decimal text, correctly rounded like strtod, but overflowing to ±Infinity and
  // underflowing to ±0 where float8in would raise an error. Null when the text is not a plain decimal.
  `create or replace function megaphone_filter_decimal(t text) returns double precision
   language plpgsql immutable parallel safe strict as $$
   declare
     parts text[] := regexp_match(t, '^([+-]?)([0-9]*)(?:[.]([0-9]*))?(?:[eE]([+-]?[0-9]+))?$');
     negative boolean;
     digits text;
     -- the value is 0.<digits> × 10^exponent, digits starting with a non-zero digit
     exponent numeric;
     decimal_text text;
     magnitude numeric;
   begin
     if parts is null or parts[2] || coalesce(parts[3], '') = '' then return null; end if;
     negative := parts[1] = '-';
     digits := parts[2] || coalesce(parts[3], '');
     exponent := coalesce(parts[4], '0')::numeric + length(parts[2]) - (length(digits) - length(ltrim(digits, '0')));
     digits := rtrim(ltrim(digits, '0'), '0');
     if digits = '' or exponent < -323 then
       return case when negative then '-0'::float8 else 0 end;
     end if;
     if exponent > 309 then
       return case when negative then '-Infinity'::float8 else 'Infinity'::float8 end;
     end if;
     -- Past 800 significant digits only "is anything non-zero left" can change the rounding of a double.
     if length(digits) > 800 then digits := left(digits, 800) || '1'; end if;
     decimal_text := '0.' || digits || 'e' || exponent::text;
     if exponent >= 309 or exponent <= -322 then
       -- Near the ends of the double range, decide overflow/underflow exactly (halfway rounds to even).
       magnitude := decimal_text::numeric;
       if magnitude >= power(2::numeric, 1024) - power(2::numeric, 970) then
         return case when negative then '-Infinity'::float8 else 'Infinity'::float8 end;
       end if;
       if magnitude * power(2::numeric, 1075) <= 1 then
         return case when negative then '-0'::float8 else 0 end;
       end if;
     end if;
     return ((case when negative then '-' else '' end) || decimal_text)::float8;
   end $$`,

  // evaluate's asNumber() for text: "3", " 3.0 ", "-2.5", "1e3", Czech "3,5"; null when not finite.
  `create or replace function megaphone_filter_number(t text) returns double precision
   language plpgsql immutable parallel safe strict as $$
   declare
     s text := megaphone_filter_trim(t);
     x double precision;
   begin
     if s ~ '^[+-]?(?:[0-9]+(?:[.][0-9]*)?|[.][0-9]+)(?:[eE][+-]?[0-9]+)?$' then
       x := megaphone_filter_decimal(s);
     elsif s ~ '^[+-]?[0-9]+,[0-9]+$' then
       x := megaphone_filter_decimal(replace(s, ',', '.'));
     else
       return null;
     end if;
     return case when x in ('Infinity'::float8, '-Infinity'::float8) then null else x end;
   end $$`,

  // JavaScript's String(number): the shortest digits that read back as the same double, laid out by ECMAScript's
  // rules. float8out's Ryu gives the shortest digits strictly inside the rounding interval; ECMAScript also takes
  // an end of the interval when a tie would round to this double (even significand), e.g. 1.2468e+22, which
  // float8out prints as 1.2467999999999999e+22. Only doubles from 2^53 up have such ends with fewer digits.
  `create or replace function megaphone_filter_js_number_text(x double precision) returns text
   language plpgsql immutable parallel safe strict
   set extra_float_digits = 1
   as $$
   declare
     parts text[];
     digits text;
     -- ECMAScript's n: the decimal point sits after this many digits
     point integer;
     sign text := case when x < 0 then '-' else '' end;
     bits bigint;
     significand bigint;
     power2 integer;
     ends numeric[];
     candidate text;
     i integer;
   begin
     if x = 'NaN'::float8 then return 'NaN'; end if;
     if x = 'Infinity'::float8 then return 'Infinity'; end if;
     if x = '-Infinity'::float8 then return '-Infinity'; end if;
     if x = 0 then return '0'; end if;
     parts := regexp_match(abs(x)::text, '^([0-9]+)(?:[.]([0-9]+))?(?:e([+-][0-9]+))?$');
     digits := parts[1] || coalesce(parts[2], '');
     point := length(parts[1]) + coalesce(parts[3], '0')::integer - (length(digits) - length(ltrim(digits, '0')));
     digits := rtrim(ltrim(digits, '0'), '0');
     if abs(x) >= 9007199254740992 then
       bits := ('x' || encode(float8send(abs(x)), 'hex'))::bit(64)::bigint;
       significand := (bits & 4503599627370495) | 4503599627370496;
       power2 := (bits >> 52)::integer - 1075;
       if significand % 2 = 0 then
         -- The midpoints to the neighbours (the one below is closer when the significand is a power of two).
         ends := array[(2 * significand + 1)::numeric * power(2::numeric, power2 - 1),
           case when significand = 4503599627370496
             then (4 * significand - 1)::numeric * power(2::numeric, power2 - 2)
             else (2 * significand - 1)::numeric * power(2::numeric, power2 - 1) end];
         for i in 1 .. 2 loop
           candidate := trunc(ends[i])::text;
           -- Only a strictly shorter end wins: at equal length Ryu's digits are closer to x. Both ends cannot
           -- be short, since they differ by a power of two and so cannot both end in zeros.
           if ends[i] = trunc(ends[i]) and length(rtrim(candidate, '0')) < length(digits) then
             digits := rtrim(candidate, '0');
             point := length(candidate);
           end if;
         end loop;
       end if;
     end if;
     if length(digits) <= point and point <= 21 then return sign || digits || repeat('0', point - length(digits)); end if;
     if 0 < point and point <= 21 then return sign || left(digits, point) || '.' || substr(digits, point + 1); end if;
     if -6 < point and point <= 0 then return sign || '0.' || repeat('0', -point) || digits; end if;
     return sign || left(digits, 1) || (case when length(digits) > 1 then '.' || substr(digits, 2) else '' end)
       || 'e' || (case when point >= 1 then '+' else '-' end) || abs(point - 1)::text;
   end $$`,

  // evaluate's text() for a cell: String(cell) trimmed and NFC-normalised; '' when missing or null.
  `create or replace function megaphone_filter_cell_text(cell jsonb) returns text
   language sql immutable parallel safe
   return megaphone_filter_text(case jsonb_typeof(cell)
     when 'string' then cell #>> '{}'
     when 'number' then megaphone_filter_js_number_text(megaphone_filter_decimal(cell::text))
     when 'null' then ''
     else coalesce(cell::text, '') end)`,

  // evaluate's asNumber() for a cell: a JSON number (as JSON.parse reads it) or numeric text.
  `create or replace function megaphone_filter_cell_number(cell jsonb) returns double precision
   language sql immutable parallel safe
   return case jsonb_typeof(cell)
     when 'string' then megaphone_filter_number(cell #>> '{}')
     when 'number' then megaphone_filter_number(cell::text) end`,

  // evaluate's Instant: days since 1970-01-01 as written, epoch milliseconds (a double, as in JavaScript), date-only.
  `do $$ begin
     create type megaphone_filter_instant as (day integer, ms double precision, date_only boolean);
   exception when duplicate_object then null;
   end $$`,

  // evaluate's instant(): validates the calendar date and time; proleptic Gregorian with a year 0, like JavaScript.
  `create or replace function megaphone_filter_instant(
     yyyy integer, mm integer, dd integer, hh integer, mi integer, ss integer, fraction double precision,
     offset_minutes integer, date_only boolean
   ) returns megaphone_filter_instant
   language plpgsql immutable parallel safe strict as $$
   declare
     leap boolean := (yyyy % 4 = 0 and yyyy % 100 <> 0) or yyyy % 400 = 0;
     -- days_from_civil (H. Hinnant): years start in March so the leap day is the last day of a year
     y integer := yyyy - (case when mm <= 2 then 1 else 0 end);
     era integer;
     yoe integer;
     days integer;
   begin
     if mm < 1 or mm > 12 then return null; end if;
     if dd < 1 or dd > (array[31, case when leap then 29 else 28 end, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[mm] then
       return null;
     end if;
     if hh > 23 or mi > 59 or ss > 59 or abs(offset_minutes) > 23 * 60 + 59 then return null; end if;
     era := case when y >= 0 then y / 400 else (y - 399) / 400 end;
     yoe := y - era * 400;
     days := era * 146097 + yoe * 365 + yoe / 4 - yoe / 100
       + (153 * (mm + (case when mm > 2 then -3 else 9 end)) + 2) / 5 + dd - 1 - 719468;
     -- Integer part exact, then one rounding when the fraction is added: the order of JavaScript's expression.
     return row(days,
       (days::bigint * 86400000 + ((hh * 60 + mi - offset_minutes) * 60 + ss)::bigint * 1000)::float8 + fraction,
       date_only)::megaphone_filter_instant;
   end $$`,

  // evaluate's parseIsoDate(): 2025-01-31 or 2025-01-31T09:30[:00[.123]][Z|+01:00]; no offset is UTC.
  `create or replace function megaphone_filter_iso_date(t text) returns megaphone_filter_instant
   language plpgsql immutable parallel safe strict as $$
   declare
     m text[] := regexp_match(t,
       '^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]{1,9}))?)?(Z|([+-])([0-9]{2}):([0-9]{2}))?)?$');
     offset_minutes integer := 0;
   begin
     if m is null then return null; end if;
     if m[9] is not null then
       if m[10]::integer > 23 or m[11]::integer > 59 then return null; end if;
       offset_minutes := (case when m[9] = '-' then -1 else 1 end) * (m[10]::integer * 60 + m[11]::integer);
     end if;
     return megaphone_filter_instant(m[1]::integer, m[2]::integer, m[3]::integer, coalesce(m[4], '0')::integer,
       coalesce(m[5], '0')::integer, coalesce(m[6], '0')::integer, ('0.' || coalesce(m[7], '0'))::float8 * 1000,
       offset_minutes, m[4] is null);
   end $$`,

  // evaluate's asDate(): a text cell, trimmed, in Czech form (31. 1. 2025, 31.01.2025) or ISO.
  `create or replace function megaphone_filter_cell_date(cell jsonb) returns megaphone_filter_instant
   language plpgsql immutable parallel safe as $$
   declare
     t text;
     m text[];
   begin
     if jsonb_typeof(cell) is distinct from 'string' then return null; end if;
     t := megaphone_filter_trim(cell #>> '{}');
     m := regexp_match(t, '^([0-9]{1,2})[.][' || megaphone_filter_whitespace() || ']?([0-9]{1,2})[.]['
       || megaphone_filter_whitespace() || ']?([0-9]{4})$');
     if m is null then return megaphone_filter_iso_date(t); end if;
     return megaphone_filter_instant(m[3]::integer, m[2]::integer, m[1]::integer, 0, 0, 0, 0, 0, true);
   end $$`,

  // evaluate's compareDates(): by calendar day when either side is a date only, else by instant.
  `create or replace function megaphone_filter_compare_dates(a megaphone_filter_instant, b megaphone_filter_instant)
   returns integer
   language sql immutable parallel safe strict
   return case
     when a.date_only or b.date_only then sign(a.day - b.day)::integer
     when a.ms < b.ms then -1
     when a.ms > b.ms then 1
     else 0 end`,

  // evaluate's isEqual(): numbers when the filter holds a number and the cell is numeric, dates when the filter
  // holds an ISO date and the cell is a date, otherwise trimmed NFC text, case-sensitive.
  `create or replace function megaphone_filter_equals(cell jsonb, value text, value_is_number boolean) returns boolean
   language plpgsql immutable parallel safe as $$
   declare
     n double precision;
     filter_date megaphone_filter_instant;
     cell_date megaphone_filter_instant;
   begin
     if value_is_number then
       n := megaphone_filter_cell_number(cell);
       if n is not null then return coalesce(n = megaphone_filter_number(value), false); end if;
     else
       filter_date := megaphone_filter_iso_date(value);
       if filter_date is not null then
         cell_date := megaphone_filter_cell_date(cell);
         if cell_date is not null then return megaphone_filter_compare_dates(cell_date, filter_date) = 0; end if;
       end if;
     end if;
     return megaphone_filter_cell_text(cell) = megaphone_filter_text(value);
   end $$`,

  // evaluate's order(): the sign of cell − value, numerically or as dates; null when they are not comparable.
  `create or replace function megaphone_filter_order(cell jsonb, value text, value_is_number boolean) returns integer
   language plpgsql immutable parallel safe as $$
   declare
     a double precision := megaphone_filter_cell_number(cell);
     b double precision := megaphone_filter_number(value);
     x megaphone_filter_instant;
     y megaphone_filter_instant;
   begin
     -- Compared, not subtracted: float8 subtraction raises on overflow where JavaScript gives ±Infinity.
     if a is not null and b is not null then return case when a < b then -1 when a > b then 1 else 0 end; end if;
     if value_is_number then return null; end if;
     x := megaphone_filter_cell_date(cell);
     if x is null then return null; end if;
     y := megaphone_filter_iso_date(megaphone_filter_trim(value));
     if y is null then return null; end if;
     return megaphone_filter_compare_dates(x, y);
   end $$`,

  // evaluate's Contains: case-folded substring; strpos, so % _ and \\ in the value are plain characters.
  `create or replace function megaphone_filter_contains(cell jsonb, value text) returns boolean
   language sql immutable parallel safe
   return strpos(megaphone_filter_fold(megaphone_filter_cell_text(cell)), megaphone_filter_fold(megaphone_filter_text(value))) > 0`,

  // evaluate's StartsWith: case-folded prefix.
  `create or replace function megaphone_filter_starts_with(cell jsonb, value text) returns boolean
   language sql immutable parallel safe
   return starts_with(megaphone_filter_fold(megaphone_filter_cell_text(cell)), megaphone_filter_fold(megaphone_filter_text(value)))`,

  // Contains / StartsWith for a value JavaScript holds with a lone surrogate at an end (PostgreSQL text cannot):
  // String.includes compares UTF-16 units, so a leading low or trailing high surrogate matches half of a
  // neighbouring astral character. core is the rest of the value, already trimmed and normalised.
  `create or replace function megaphone_filter_contains_units(
     cell jsonb, core text, low_unit integer, high_unit integer, anchored boolean
   ) returns boolean
   language plpgsql immutable parallel safe as $$
   declare
     haystack text := megaphone_filter_fold(megaphone_filter_cell_text(cell));
     needle text := megaphone_filter_fold(core);
     pos integer := 1;
     found integer;
     neighbour integer;
   begin
     loop
       found := strpos(substr(haystack, pos), needle);
       exit when found = 0;
       pos := pos + found - 1;
       if anchored and pos <> 1 then return false; end if;
       neighbour := ascii(substr(haystack, pos - 1, 1));
       if (low_unit is null or (pos > 1 and neighbour >= 65536 and 56320 + ((neighbour - 65536) & 1023) = low_unit))
       then
         neighbour := ascii(substr(haystack, pos + length(needle), 1));
         if high_unit is null or (neighbour >= 65536 and 55296 + ((neighbour - 65536) >> 10) = high_unit) then
           return true;
         end if;
       end if;
       exit when pos > length(haystack);
       pos := pos + 1;
     end loop;
     return false;
   end $$`
]

/** Creates the `megaphone_filter_*` SQL functions that `FilterSql.compile`'s conditions call. */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const collations = yield* sql<{ readonly collname: string }>`
    select collname from pg_collation where collname in ('pg_unicode_fast', 'und-x-icu')`
  for (const statement of statements(foldCollation(collations.map((row) => row.collname)))) {
    yield* sql.unsafe(statement)
  }
})
