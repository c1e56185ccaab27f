/**
 * The logger the watch layer needs: the pino call shape (`logger.warn({ err }, 'msg')`), so a
 * pino logger (or a child of one) can be passed as it is, and tests can pass a recorder.
 */
export interface KubeLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything (the default when none is injected). */
export const silentLogger: KubeLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
