/**
 * CSV for the CLI: the reader and writer live with the campaign operations (campaigns/Csv.ts), which the admin API
 * shares; the commands (and their tests) import them from here.
 */
export {
  csvCell,
  csvLine,
  type CsvRow,
  decodeText,
  type Delimiter,
  detectDelimiter,
  MAX_RECORD_CHARS,
  neutralise,
  parseCsv,
  safeCsvLine,
  UTF8_BOM
} from "../campaigns/Csv.ts"
