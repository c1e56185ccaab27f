/**
 * The one logger shape Hermod's code depends on: pino's call shape (`log.warn({ err }, 'msg')`),
 * so the pino logger from src/io/logger.ts (or a child of it) is passed as it is, and tests can
 * pass a recorder. Defined here, the innermost layer that logs, so actors need not import I/O.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything (the default when none is injected). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
